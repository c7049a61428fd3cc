/// How one type is laid out on the wire, one level deep (docs/protocol.md §4). `Child` is how the shape refers
/// to its element types: a ``TypeReference`` when resolved from a table, a plan edge once compiled.
///
/// Built-ins that are compositions of others are expressed as such: `URL::Host` is a variant,
/// `IPv6Address` an `Array<u8, 16>`, `Gfx::IntRect` four named i32 fields.
enum TypeShape<Child> {
    case bool
    case integer(IntegerKind)
    case float32
    case float64
    /// `ByteString`, `StringView`, `JsonValue`: u32 length + bytes, not validated.
    case byteString
    /// `String`, `FlyString`: u32 length + bytes that must be UTF-8.
    case utf8String
    /// `Utf16String`, `Utf16FlyString`, `Utf16View`: ASCII flag, u32 code-unit count, units.
    case utf16String
    /// `ByteBuffer`, `ReadonlyBytes`: u32 length + bytes.
    case byteBuffer
    case vector(Child)
    case array(Child, count: Int)
    case map(key: Child, value: Child)
    case optional(Child)
    case variant([Child])
    /// An `@ipcscope variant`: an integer tag written by a hand-made encoder, then the case it selects.
    case taggedUnion(tag: IntegerKind, cases: [TaggedCase<Child>])
    case empty
    /// Fixed named fields one after the other (Gfx points, sizes and rects, `Core::ProxyData`).
    case fields([TypeField<Child>])
    /// bool opaque, then either nonce + type or scheme, host, port, domain.
    case urlOrigin
    /// Serialized string, bool has_blob (blob entries are not decoded).
    case url
    /// `IPC::File`, `IPC::TransportHandle`, `Core::SharedSingleProducerCircularQueue`: no bytes, one fd.
    case attachment(AttachmentKind)
    /// bool valid; if valid, u64 size and one fd.
    case anonymousBuffer
    case enumeration(EnumDeclaration)
    case unknown(reason: String)

    func mapChildren<T>(_ transform: (Child) -> T) -> TypeShape<T> {
        switch self {
        case .vector(let element): .vector(transform(element))
        case .array(let element, let count): .array(transform(element), count: count)
        case .map(let key, let value): .map(key: transform(key), value: transform(value))
        case .optional(let wrapped): .optional(transform(wrapped))
        case .variant(let alternatives): .variant(alternatives.map(transform))
        case .taggedUnion(let tag, let cases):
            .taggedUnion(tag: tag, cases: cases.map { TaggedCase(tag: $0.tag, name: $0.name, type: transform($0.type)) })
        case .fields(let fields): .fields(fields.map { TypeField(name: $0.name, type: transform($0.type)) })
        case .bool: .bool
        case .integer(let kind): .integer(kind)
        case .float32: .float32
        case .float64: .float64
        case .byteString: .byteString
        case .utf8String: .utf8String
        case .utf16String: .utf16String
        case .byteBuffer: .byteBuffer
        case .empty: .empty
        case .urlOrigin: .urlOrigin
        case .url: .url
        case .attachment(let kind): .attachment(kind)
        case .anonymousBuffer: .anonymousBuffer
        case .enumeration(let declaration): .enumeration(declaration)
        case .unknown(let reason): .unknown(reason: reason)
        }
    }

    /// Bytes per value when the type is a fixed-size number (so a long list of them can be skipped at once).
    var arithmeticWidth: Int? {
        switch self {
        case .bool: 1
        case .integer(let kind): kind.byteWidth
        case .float32: 4
        case .float64: 8
        default: nil
        }
    }
}

struct TypeField<Child> {
    var name: String
    var type: Child
}

struct TaggedCase<Child> {
    var tag: Int64
    var name: String
    var type: Child
}

extension TypeShape<TypeReference> {
    /// The built-in types of LibIPC, by name. Leading `::` and `AK::` are ignored; other namespaces may be
    /// written or left out (`Gfx::IntSize` or `IntSize`).
    static func builtin(_ reference: TypeReference) -> TypeShape<TypeReference> {
        let name = reference.unqualifiedBaseName
        let arguments = reference.arguments
        if let kind = IntegerKind(typeName: name) {
            return arguments.isEmpty ? .integer(kind) : .unknown(reason: "'\(name)' takes no type arguments")
        }
        switch name {
        case "bool": return .bool
        case "float", "f32": return .float32
        case "double", "f64": return .float64
        case "ByteString", "StringView", "DeprecatedString", "JsonValue": return .byteString
        case "String", "FlyString": return .utf8String
        case "Utf16String", "Utf16FlyString", "Utf16View": return .utf16String
        case "ByteBuffer", "ReadonlyBytes", "Bytes": return .byteBuffer
        case "Vector", "Span", "ReadonlySpan":
            // Vector<T, inline_capacity> encodes like Vector<T>.
            guard let element = arguments.first, !element.isLiteral else { return missingArguments(name, "an element type") }
            return .vector(element)
        case "Array":
            guard arguments.count == 2, !arguments[0].isLiteral, let count = arguments[1].literalValue else {
                return missingArguments(name, "an element type and a size, e.g. Array<u8, 16>")
            }
            return .array(arguments[0], count: count)
        case "HashMap", "OrderedHashMap":
            guard arguments.count >= 2, !arguments[0].isLiteral, !arguments[1].isLiteral else {
                return missingArguments(name, "a key and a value type")
            }
            return .map(key: arguments[0], value: arguments[1])
        case "Optional":
            guard arguments.count == 1, !arguments[0].isLiteral else { return missingArguments(name, "one type") }
            return .optional(arguments[0])
        case "Variant":
            guard !arguments.isEmpty, !arguments.contains(where: \.isLiteral) else {
                return missingArguments(name, "alternative types")
            }
            return .variant(arguments)
        case "Empty": return .empty
        case "Duration", "UnixDateTime": return .integer(.i64) // nanoseconds
        case "IPv4Address": return .integer(.u32) // first octet in the low byte
        case "IPv6Address": return .array(TypeReference("u8"), count: 16)
        case "URL::Host":
            return .variant([TypeReference("IPv4Address"), TypeReference("IPv6Address"), TypeReference("String")])
        case "URL::Origin": return .urlOrigin
        case "URL::URL", "URL": return .url
        case "Core::ProxyData", "ProxyData":
            return fields([("type", "Core::ProxyData::Type"), ("host_ipv4", "IPv4Address"), ("port", "u16")])
        case "Gfx::IntPoint", "IntPoint": return fields([("x", "i32"), ("y", "i32")])
        case "Gfx::IntSize", "IntSize": return fields([("width", "i32"), ("height", "i32")])
        case "Gfx::IntRect", "IntRect": return fields([("x", "i32"), ("y", "i32"), ("width", "i32"), ("height", "i32")])
        case "Gfx::FloatPoint", "FloatPoint": return fields([("x", "float"), ("y", "float")])
        case "Gfx::Color", "Color": return .integer(.u32) // 0xAARRGGBB
        case "IPC::File", "File": return .attachment(.file)
        case "IPC::TransportHandle", "TransportHandle": return .attachment(.transportHandle)
        case "Core::SharedSingleProducerCircularQueue", "SharedSingleProducerCircularQueue": return .attachment(.queue)
        case "Core::AnonymousBuffer", "AnonymousBuffer": return .anonymousBuffer
        case TransferRecordLayout.holderName:
            return .fields([
                TypeField(name: "data", type: TransferRecordLayout.bytes),
                TypeField(name: "attachments", type: TransferRecordLayout.files),
            ])
        default:
            return .unknown(reason: "unknown type '\(reference.spelling)'")
        }
    }

    /// Enums that built-in types contain; a schema may redeclare them.
    static let builtinEnumerations: [EnumDeclaration] = {
        let location = SourceLocation(file: "<built-in>", line: 0, column: 0)
        return [
            // An unscoped enum without a fixed type: 4 bytes with GCC and Clang.
            EnumDeclaration(
                name: "Core::ProxyData::Type", underlying: .u32,
                cases: [.init(name: "Direct", value: 0), .init(name: "SOCKS5", value: 1)], location: location),
            EnumDeclaration(
                name: "URL::Origin::Type", underlying: .u8,
                cases: [.init(name: "Standard", value: 0), .init(name: "File", value: 1)], location: location),
        ]
    }()

    private static func fields(_ list: [(String, String)]) -> TypeShape<TypeReference> {
        .fields(list.map { TypeField(name: $0.0, type: TypeReference($0.1)) })
    }

    private static func missingArguments(_ name: String, _ what: String) -> TypeShape<TypeReference> {
        .unknown(reason: "'\(name)' needs \(what)")
    }
}

extension TypeShape: Sendable where Child: Sendable {}
extension TypeField: Sendable where Child: Sendable {}
extension TaggedCase: Sendable where Child: Sendable {}
