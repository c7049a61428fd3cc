import Glibc
import IPCWire

/// Why a helper could not take over its socket.
public enum TakeoverError: Error, Equatable, Sendable, CustomStringConvertible {
    case variableNotSet
    case malformed(SocketTakeover.ParseError)
    case notASocket(fd: Int32, kind: DescriptorKind)
    case system(SystemError)

    public var description: String {
        switch self {
        case .variableNotSet: return "\(SocketTakeover.environmentVariable) is not set"
        case .malformed(let error): return "\(SocketTakeover.environmentVariable): \(error)"
        case .notASocket(let fd, let kind): return "fd \(fd) from \(SocketTakeover.environmentVariable) is a \(kind), not a socket"
        case .system(let error): return error.description
        }
    }
}

extension SocketTakeover {
    /// The child side of Ladybird's spawn (`take_over_accepted_client_from_system_server`): reads and
    /// unsets `SOCKET_TAKEOVER`, picks the entry (`name`, or the only one when nil), checks the fd is a
    /// socket and sets close-on-exec. The caller owns the returned fd.
    public static func takeOver(name: String? = nil) throws(TakeoverError) -> Int32 {
        guard let value = ProcessEnvironment.take(environmentVariable) else { throw .variableNotSet }
        let entry: Entry
        do {
            entry = try select(name: name, from: try parse(value))
        } catch {
            throw .malformed(error)
        }
        do {
            let info = try Descriptor.info(entry.fd)
            guard info.kind == .socket else { throw TakeoverError.notASocket(fd: entry.fd, kind: info.kind) }
            try Descriptor.setCloseOnExec(entry.fd)
        } catch let error as TakeoverError {
            throw error
        } catch let error as SystemError {
            throw .system(error)
        } catch {
            throw .system(SystemError(errno: EINVAL, operation: "takeOver"))
        }
        return entry.fd
    }
}
