import CSystemShims
import Glibc
import IPCTransport
import Recorder
import Synchronization

/// A ControlServer handler for tests: remembers every request and relays (with ``TestRelay``), declines or
/// refuses as told. For `.connect` it connects upstream itself, as the real recorder does.
final class RecordingHandler: Sendable {
    enum Policy: Sendable {
        case relay
        case decline
        case refuse(Int32)
    }

    let policy: Policy
    private let seen = Mutex<[ControlRequest]>([])

    init(_ policy: Policy = .relay) {
        self.policy = policy
    }

    var requests: [ControlRequest] { seen.withLock { $0 } }

    var handler: ControlServer.Handler { { [self] request in handle(request) } }

    func handle(_ request: ControlRequest) -> ControlReply {
        seen.withLock { $0.append(request) }
        switch policy {
        case .decline:
            Descriptor.closeAll(request.fds)
            return .declined
        case .refuse(let errno):
            Descriptor.closeAll(request.fds)
            return .refused(errno)
        case .relay:
            switch request {
            case .socketPair(_, _, let fdA, let fdB, _):
                TestRelay.start(fdA, fdB)
                return .accepted
            case .takeover(_, _, let programSide, let realSocket):
                TestRelay.start(programSide, realSocket)
                return .accepted
            case .connect(_, let path, let fd):
                switch connectUpstream(path) {
                case .success(let upstream):
                    TestRelay.start(fd, upstream)
                    return .accepted
                case .failure(let error):
                    Descriptor.close(fd)
                    return .refused(error.errno)
                }
            }
        }
    }

    private func connectUpstream(_ path: String) -> Result<Int32, SystemError> {
        let upstream = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard upstream >= 0 else { return .failure(.current("socket")) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            Descriptor.close(upstream)
            return .failure(SystemError(errno: ENAMETOOLONG, operation: "connect"))
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else {
            let error = SystemError.current("connect \(path)")
            Descriptor.close(upstream)
            return .failure(error)
        }
        return .success(upstream)
    }
}
