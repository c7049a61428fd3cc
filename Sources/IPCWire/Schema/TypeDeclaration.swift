/// A type the decoder cannot know from the `.ipc` grammar alone, declared in an `@ipcscope` comment:
///
///     // @ipcscope enum Demo::LoadState : u8 { Idle = 0, Loading, Complete = 5 }
///     // @ipcscope type Demo::PageID = u64
///     // @ipcscope struct Demo::Header { ByteString name; ByteString value }
///     // @ipcscope variant Demo::Reply : u8 { 0 = JsonValue value, 1 = Demo::Error error }
///     // @ipcscope opaque Demo::Blob "why it cannot be declared"
public enum TypeDeclaration: Hashable, Sendable {
    case enumeration(EnumDeclaration)
    case alias(AliasDeclaration)
    case structure(StructDeclaration)
    case taggedUnion(TaggedUnionDeclaration)
    case opaque(OpaqueDeclaration)

    /// The declared name, without a leading `::`.
    public var name: String {
        switch self {
        case .enumeration(let declaration): declaration.name
        case .alias(let declaration): declaration.name
        case .structure(let declaration): declaration.name
        case .taggedUnion(let declaration): declaration.name
        case .opaque(let declaration): declaration.name
        }
    }

    public var location: SourceLocation {
        switch self {
        case .enumeration(let declaration): declaration.location
        case .alias(let declaration): declaration.location
        case .structure(let declaration): declaration.location
        case .taggedUnion(let declaration): declaration.location
        case .opaque(let declaration): declaration.location
        }
    }

    /// Whether two declarations say the same thing about the wire (where they are written does not count).
    public func sameMeaning(as other: TypeDeclaration) -> Bool {
        switch (self, other) {
        case (.enumeration(let x), .enumeration(let y)): x.underlying == y.underlying && x.cases == y.cases
        case (.alias(let x), .alias(let y)): x.target == y.target
        case (.structure(let x), .structure(let y)): x.fields == y.fields
        case (.taggedUnion(let x), .taggedUnion(let y)): x.tag == y.tag && x.cases == y.cases
        case (.opaque(let x), .opaque(let y)): x.reason == y.reason
        default: false
        }
    }
}

/// `struct Name { Type field; … }`: the fields one after the other, in encode order, with nothing between.
public struct StructDeclaration: Hashable, Sendable {
    public struct Field: Hashable, Sendable {
        public var name: String
        public var type: TypeReference

        public init(name: String, type: TypeReference) {
            self.name = name
            self.type = type
        }
    }

    public var name: String
    public var fields: [Field]
    public var location: SourceLocation

    public init(name: String, fields: [Field], location: SourceLocation) {
        self.name = name
        self.fields = fields
        self.location = location
    }
}

/// `variant Name : u8 { 0 = A a, 1 = B b }`: an integer tag, then the type its value selects. Covers
/// hand-written encoders that write their own discriminant (`ErrorOr`-like replies, a flag that picks one
/// of two layouts) where `Variant<…>` (a u8 index counting from 0) does not fit.
public struct TaggedUnionDeclaration: Hashable, Sendable {
    public struct Case: Hashable, Sendable {
        public var tag: Int64
        /// The name shown for the value (`value` when the declaration gives none).
        public var name: String
        public var type: TypeReference

        public init(tag: Int64, name: String, type: TypeReference) {
            self.tag = tag
            self.name = name
            self.type = type
        }
    }

    public var name: String
    public var tag: IntegerKind
    public var cases: [Case]
    public var location: SourceLocation

    public init(name: String, tag: IntegerKind, cases: [Case], location: SourceLocation) {
        self.name = name
        self.tag = tag
        self.cases = cases
        self.location = location
    }

    public func caseFor(tag value: Int64) -> Case? {
        cases.first { $0.tag == value }
    }
}

/// `opaque Name "reason"`: a type known to exist whose encoding cannot be declared. Decoding stops at it
/// (`.undecoded` with the reason); `schema --coverage` lists it with the reason.
public struct OpaqueDeclaration: Hashable, Sendable {
    public var name: String
    public var reason: String
    public var location: SourceLocation

    public init(name: String, reason: String, location: SourceLocation) {
        self.name = name
        self.reason = reason
        self.location = location
    }
}

/// An enum encoded as its underlying integer type.
public struct EnumDeclaration: Hashable, Sendable {
    public struct Case: Hashable, Sendable {
        public var name: String
        public var value: Int64

        public init(name: String, value: Int64) {
            self.name = name
            self.value = value
        }
    }

    public var name: String
    /// The underlying integer type; `i32` when the declaration names none (like a C++ `enum class`).
    public var underlying: IntegerKind
    public var cases: [Case]
    public var location: SourceLocation

    public init(name: String, underlying: IntegerKind, cases: [Case], location: SourceLocation) {
        self.name = name
        self.underlying = underlying
        self.cases = cases
        self.location = location
    }

    /// The first case with this value (C enums may give two names the same value).
    public func caseName(for value: Int64) -> String? {
        cases.first(where: { $0.value == value })?.name
    }
}

/// `type Name = Target`: `Name` is encoded exactly as `Target`.
public struct AliasDeclaration: Hashable, Sendable {
    public var name: String
    public var target: TypeReference
    public var location: SourceLocation

    public init(name: String, target: TypeReference, location: SourceLocation) {
        self.name = name
        self.target = target
        self.location = location
    }
}

/// A fixed-width integer type as LibIPC writes it (raw little-endian bytes).
public enum IntegerKind: String, Hashable, Sendable, CaseIterable {
    case u8, i8, u16, i16, u32, i32, u64, i64

    /// The integer types a schema may name, including C spellings (`int` = i32, `size_t` = u64 on 64-bit Linux).
    public init?(typeName: String) {
        switch typeName {
        case "u8", "uint8_t": self = .u8
        case "i8", "int8_t": self = .i8
        case "u16", "uint16_t": self = .u16
        case "i16", "int16_t": self = .i16
        case "u32", "uint32_t", "unsigned": self = .u32
        case "i32", "int32_t", "int": self = .i32
        case "u64", "uint64_t", "size_t": self = .u64
        case "i64", "int64_t", "ssize_t": self = .i64
        default: return nil
        }
    }

    public var byteWidth: Int {
        switch self {
        case .u8, .i8: 1
        case .u16, .i16: 2
        case .u32, .i32: 4
        case .u64, .i64: 8
        }
    }

    public var isSigned: Bool {
        switch self {
        case .i8, .i16, .i32, .i64: true
        case .u8, .u16, .u32, .u64: false
        }
    }

    /// Whether `value` is representable (u64 values above `Int64.max` are out of reach of an `Int64`).
    public func contains(_ value: Int64) -> Bool {
        switch self {
        case .u8: value >= 0 && value <= Int64(UInt8.max)
        case .i8: value >= Int64(Int8.min) && value <= Int64(Int8.max)
        case .u16: value >= 0 && value <= Int64(UInt16.max)
        case .i16: value >= Int64(Int16.min) && value <= Int64(Int16.max)
        case .u32: value >= 0 && value <= Int64(UInt32.max)
        case .i32: value >= Int64(Int32.min) && value <= Int64(Int32.max)
        case .u64: value >= 0
        case .i64: true
        }
    }
}
