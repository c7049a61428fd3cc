import CSystemShims
import Glibc

/// Why a control request was rejected. The client is told EINVAL (EOPNOTSUPP for the reserved kind);
/// the server closes every fd that came with the request.
public enum ControlRequestError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A zero-length message, or the client closed without sending one.
    case empty
    case truncatedHeader(byteCount: Int)
    case badMagic(UInt32)
    case unsupportedVersion(UInt16)
    case unknownKind(UInt16)
    /// A kind the protocol reserves but this server does not implement (attach).
    case unsupportedKind(ControlProtocol.Kind)
    case nameTooLong(UInt32)
    /// The message is not exactly header + name length bytes.
    case lengthMismatch(expected: Int, actual: Int)
    /// The kernel dropped fds that did not fit (MSG_CTRUNC).
    case fdsTruncated
    case wrongFDCount(kind: ControlProtocol.Kind, expected: Int, actual: Int)
    case invalidPID(Int32)
    case invalidFlags(Int32)
    /// Empty where a name is required, not UTF-8, or containing NUL.
    case invalidName
    /// A connect path must be absolute (the interposer resolves relative ones against its cwd).
    case relativePath
    case notASocket(position: Int)

    /// The status the client gets.
    public var replyStatus: Int32 {
        if case .unsupportedKind = self { return EOPNOTSUPP }
        return EINVAL
    }

    public var description: String {
        switch self {
        case .empty: return "empty message"
        case .truncatedHeader(let count): return "message of \(count) bytes is shorter than the header"
        case .badMagic(let magic): return "bad magic 0x\(String(magic, radix: 16))"
        case .unsupportedVersion(let version): return "unsupported version \(version)"
        case .unknownKind(let kind): return "unknown kind \(kind)"
        case .unsupportedKind(let kind): return "kind \(kind) is not supported"
        case .nameTooLong(let length): return "name length \(length) exceeds \(ControlProtocol.maxNameLength)"
        case .lengthMismatch(let expected, let actual): return "message has \(actual) bytes, header says \(expected)"
        case .fdsTruncated: return "fds were truncated (MSG_CTRUNC)"
        case .wrongFDCount(let kind, let expected, let actual): return "\(kind) carries \(actual) fds, expected \(expected)"
        case .invalidPID(let pid): return "invalid pid \(pid)"
        case .invalidFlags(let flags): return "invalid flags 0x\(String(UInt32(bitPattern: flags), radix: 16))"
        case .invalidName: return "name is empty, not UTF-8 or contains NUL"
        case .relativePath: return "connect path is not absolute"
        case .notASocket(let position): return "fd #\(position) is not a socket"
        }
    }
}

/// Turns one received control message into a ``ControlRequest``. Pure apart from `isSocket`; never traps
/// on any input. It does not close fds: the caller closes them when parsing fails.
public enum ControlRequestParser {
    /// The socketpair flags a client may report.
    public static let allowedSocketPairFlags = Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)

    public static func parse(
        message: some RandomAccessCollection<UInt8>, fds: [Int32], fdsTruncated: Bool,
        isSocket: (Int32) -> Bool = ControlRequestParser.isSocket
    ) -> Result<ControlRequest, ControlRequestError> {
        Result { () throws(ControlRequestError) in
            try parseThrowing(message: message, fds: fds, fdsTruncated: fdsTruncated, isSocket: isSocket)
        }
    }

    public static func isSocket(_ fd: Int32) -> Bool {
        var status = stat()
        return fstat(fd, &status) == 0 && status.st_mode & S_IFMT == S_IFSOCK
    }

    private static func parseThrowing(
        message: some RandomAccessCollection<UInt8>, fds: [Int32], fdsTruncated: Bool, isSocket: (Int32) -> Bool
    ) throws(ControlRequestError) -> ControlRequest {
        if message.isEmpty { throw .empty }
        guard let header = ControlProtocol.Header(decoding: message) else {
            throw .truncatedHeader(byteCount: message.count)
        }
        guard header.magic == ControlProtocol.magic else { throw .badMagic(header.magic) }
        guard header.version == ControlProtocol.version else { throw .unsupportedVersion(header.version) }
        guard let kind = ControlProtocol.Kind(rawValue: header.kind) else { throw .unknownKind(header.kind) }
        guard header.nameLength <= ControlProtocol.maxNameLength else { throw .nameTooLong(header.nameLength) }
        let expectedLength = ControlProtocol.headerSize + Int(header.nameLength)
        guard message.count == expectedLength else {
            throw .lengthMismatch(expected: expectedLength, actual: message.count)
        }
        if fdsTruncated { throw .fdsTruncated }
        guard fds.count == kind.fdCount else {
            throw .wrongFDCount(kind: kind, expected: kind.fdCount, actual: fds.count)
        }
        guard header.pid > 0 else { throw .invalidPID(header.pid) }
        let nameBytes = message.dropFirst(ControlProtocol.headerSize)

        switch kind {
        case .socketPair:
            guard header.flags & ~allowedSocketPairFlags == 0 else { throw .invalidFlags(header.flags) }
            let inodes = try programSideInodes(nameBytes)
            try requireSockets(fds, isSocket)
            return .socketPair(pid: header.pid, flags: header.flags, fdA: fds[0], fdB: fds[1], programSideInodes: inodes)
        case .connect:
            guard header.flags == 0 else { throw .invalidFlags(header.flags) }
            let path = try name(nameBytes)
            guard path.hasPrefix("/") else { throw .relativePath }
            try requireSockets(fds, isSocket)
            return .connect(pid: header.pid, path: path, fd: fds[0])
        case .takeover:
            guard header.flags == 0 else { throw .invalidFlags(header.flags) }
            let endpoint = try name(nameBytes)
            try requireSockets(fds, isSocket)
            return .takeover(pid: header.pid, name: endpoint, programSide: fds[0], realSocket: fds[1])
        case .attach:
            throw .unsupportedKind(kind)
        }
    }

    /// A socketpair request's name is empty or two decimal inodes separated by one space.
    private static func programSideInodes(_ bytes: some Collection<UInt8>) throws(ControlRequestError) -> [UInt64] {
        guard !bytes.isEmpty else { return [] }
        let parts = bytes.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw .invalidName }
        var inodes: [UInt64] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 20, part.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
                  let value = UInt64(String(decoding: part, as: UTF8.self)) else { throw .invalidName }
            inodes.append(value)
        }
        return inodes
    }

    private static func name(_ bytes: some Collection<UInt8>) throws(ControlRequestError) -> String {
        guard !bytes.isEmpty, !bytes.contains(0), let text = String(validating: bytes, as: UTF8.self) else {
            throw .invalidName
        }
        return text
    }

    private static func requireSockets(_ fds: [Int32], _ isSocket: (Int32) -> Bool) throws(ControlRequestError) {
        for (position, fd) in fds.enumerated() where !isSocket(fd) { throw .notASocket(position: position) }
    }
}
