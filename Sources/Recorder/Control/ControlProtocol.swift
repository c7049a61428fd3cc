/// The control protocol between the LD_PRELOAD interposer (or a nested recorder) and the recorder's
/// ``ControlServer``; docs/control-protocol.md is the full description. Version 1, little-endian.
/// The C side mirrors these numbers in Sources/IPCScopePreload/include/ipcscope_preload.h.
public enum ControlProtocol {
    /// "IPCS" read as a little-endian u32.
    public static let magic: UInt32 = 0x5343_5049
    public static let version: UInt16 = 1
    /// u32 magic · u16 version · u16 kind · i32 pid · i32 flags · u32 name length.
    public static let headerSize = 20
    /// u32 magic · i32 status.
    public static let replySize = 8
    public static let maxNameLength = 4096
    /// The most fds any request kind carries.
    public static let maxRequestFDs = 2

    /// Reply status meaning "relayed".
    public static let statusAccepted: Int32 = 0
    /// Reply status meaning "not recording this one: do the real call yourself".
    public static let statusDeclined: Int32 = -1

    public enum Kind: UInt16, Sendable, CaseIterable {
        /// 2 fds (the recorder-side ends of the program's pair); flags: SOCK_CLOEXEC|SOCK_NONBLOCK asked for.
        case socketPair = 1
        /// 1 fd (the recorder-side end); name: the absolute socket path to connect to.
        case connect = 2
        /// 2 fds (the wrapped program's side, the real inherited socket); name: SOCKET_TAKEOVER endpoint name.
        case takeover = 3
        /// Reserved: 1 fd and a name. The server answers EOPNOTSUPP.
        case attach = 4

        /// How many fds a well-formed request of this kind carries.
        public var fdCount: Int {
            switch self {
            case .socketPair, .takeover: return 2
            case .connect, .attach: return 1
            }
        }
    }

    /// The fixed part of a request.
    public struct Header: Equatable, Sendable {
        public var magic: UInt32
        public var version: UInt16
        public var kind: UInt16
        public var pid: Int32
        public var flags: Int32
        public var nameLength: UInt32

        public init(
            magic: UInt32 = ControlProtocol.magic, version: UInt16 = ControlProtocol.version, kind: UInt16,
            pid: Int32, flags: Int32 = 0, nameLength: UInt32
        ) {
            self.magic = magic
            self.version = version
            self.kind = kind
            self.pid = pid
            self.flags = flags
            self.nameLength = nameLength
        }

        public func encoded() -> [UInt8] {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(ControlProtocol.headerSize)
            appendLittleEndian(magic, to: &bytes)
            appendLittleEndian(version, to: &bytes)
            appendLittleEndian(kind, to: &bytes)
            appendLittleEndian(UInt32(bitPattern: pid), to: &bytes)
            appendLittleEndian(UInt32(bitPattern: flags), to: &bytes)
            appendLittleEndian(nameLength, to: &bytes)
            return bytes
        }

        /// nil when fewer than `headerSize` bytes are given.
        public init?(decoding bytes: some RandomAccessCollection<UInt8>) {
            guard bytes.count >= ControlProtocol.headerSize else { return nil }
            let base = bytes.startIndex
            func field<T: FixedWidthInteger>(_ offset: Int, _: T.Type) -> T {
                readLittleEndian(bytes, at: bytes.index(base, offsetBy: offset))
            }
            magic = field(0, UInt32.self)
            version = field(4, UInt16.self)
            kind = field(6, UInt16.self)
            pid = Int32(bitPattern: field(8, UInt32.self))
            flags = Int32(bitPattern: field(12, UInt32.self))
            nameLength = field(16, UInt32.self)
        }
    }

    /// A whole request message: header then name bytes (fds travel beside it in SCM_RIGHTS).
    public static func encodeRequest(kind: Kind, pid: Int32, flags: Int32 = 0, name: [UInt8] = []) -> [UInt8] {
        Header(kind: kind.rawValue, pid: pid, flags: flags, nameLength: UInt32(clamping: name.count)).encoded() + name
    }

    public static func encodeReply(status: Int32) -> [UInt8] {
        var bytes: [UInt8] = []
        appendLittleEndian(magic, to: &bytes)
        appendLittleEndian(UInt32(bitPattern: status), to: &bytes)
        return bytes
    }

    /// The status of a reply, or nil when it is not exactly one well-formed reply.
    public static func decodeReply(_ bytes: some RandomAccessCollection<UInt8>) -> Int32? {
        guard bytes.count == replySize else { return nil }
        let base = bytes.startIndex
        guard readLittleEndian(bytes, at: base) as UInt32 == magic else { return nil }
        return Int32(bitPattern: readLittleEndian(bytes, at: bytes.index(base, offsetBy: 4)) as UInt32)
    }
}

private func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
    withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
}

/// Callers guarantee `MemoryLayout<T>.size` bytes from `index`.
private func readLittleEndian<T: FixedWidthInteger, C: RandomAccessCollection<UInt8>>(_ bytes: C, at index: C.Index) -> T {
    var value: T = 0
    var cursor = index
    for shift in stride(from: 0, to: T.bitWidth, by: 8) {
        value |= T(truncatingIfNeeded: bytes[cursor]) << shift
        cursor = bytes.index(after: cursor)
    }
    return value
}

/// Environment variables the interposer reads.
public enum ControlEnvironment {
    /// The control socket path; the interposer is inert without it.
    public static let controlVariable = "IPCSCOPE_CONTROL"
    /// "1": also route `connect()` to named AF_UNIX stream sockets through the recorder.
    public static let interposeConnectVariable = "IPCSCOPE_INTERPOSE_CONNECT"
    /// "1": the interposer writes one line to stderr per decision.
    public static let debugVariable = "IPCSCOPE_DEBUG"
}
