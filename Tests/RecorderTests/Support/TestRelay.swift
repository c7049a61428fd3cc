import CSystemShims
import Glibc
import IPCTransport
import Synchronization

/// A minimal stand-in for the recorder's relay: one blocking thread per direction forwarding bytes and
/// SCM_RIGHTS fds unchanged (fds go out with the first bytes of the chunk they came with). Each direction
/// ends at EOF or error and half-closes its destination; the second one to end closes both fds, so no
/// thread is ever blocked on an fd that gets closed.
final class TestRelay: Sendable {
    private let first: Int32
    private let second: Int32
    private let finishedDirections = Atomic<Int>(0)

    private init(_ first: Int32, _ second: Int32) {
        self.first = first
        self.second = second
    }

    /// Takes ownership of both fds.
    static func start(_ first: Int32, _ second: Int32) {
        let relay = TestRelay(first, second)
        do {
            _ = try OSThread(name: "relay-ab") { relay.pump(from: first, to: second) }
        } catch {
            relay.directionFinished()
        }
        do {
            _ = try OSThread(name: "relay-ba") { relay.pump(from: second, to: first) }
        } catch {
            relay.directionFinished()
        }
    }

    private func pump(from source: Int32, to destination: Int32) {
        defer {
            shutdown(destination, Int32(SHUT_WR))
            directionFinished()
        }
        let control = ControlMessageBuffer(maxFDs: 64)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 8)
        defer { buffer.deallocate() }
        while true {
            guard let chunk = try? SocketMessaging.receiveMessage(
                source, into: buffer, control: control, flags: Int32(MSG_CMSG_CLOEXEC)) else { return }
            defer { Descriptor.closeAll(chunk.fds) }
            if chunk.byteCount == 0 && chunk.fds.isEmpty { return }
            guard forward(UnsafeRawBufferPointer(rebasing: buffer[0..<chunk.byteCount]), fds: chunk.fds, to: destination)
            else { return }
        }
    }

    private func forward(_ bytes: UnsafeRawBufferPointer, fds: [Int32], to destination: Int32) -> Bool {
        var offset = 0
        var pendingFDs = fds
        while offset < bytes.count || !pendingFDs.isEmpty {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
            guard let sent = try? SocketMessaging.sendMessage(
                destination, bytes: rest, fds: pendingFDs, flags: Int32(MSG_NOSIGNAL)) else { return false }
            offset += sent
            pendingFDs = []
        }
        return true
    }

    private func directionFinished() {
        if finishedDirections.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue == 2 {
            Descriptor.closeAll([first, second])
        }
    }
}
