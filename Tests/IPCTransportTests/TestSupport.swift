import TestSupport
import Foundation
import Glibc
import IPCTransport
import IPCWire
import Testing

/// Where `swift test` put the IPCTestPeer executable: next to the test bundle.
enum TestPeer {
    static let path: String? = {
        var candidates: [URL] = []
        candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent())
        candidates.append(Bundle.main.bundleURL)
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            candidates.append(URL(fileURLWithPath: executable).deletingLastPathComponent())
        }
        for directory in candidates {
            let url = directory.appendingPathComponent("IPCTestPeer")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url.path }
        }
        return nil
    }()

    struct NotBuilt: Error, CustomStringConvertible {
        var description: String { "IPCTestPeer not found next to the test bundle (\(CommandLine.arguments[0]))" }
    }

    /// Spawns the peer in `mode` exactly as Ladybird spawns a helper (socketpair + SOCKET_TAKEOVER).
    static func spawn(_ arguments: [String]) throws -> (transport: IPCTransport, process: ChildProcess) {
        guard let path else { throw NotBuilt() }
        return try ProcessSpawner.spawnHelper(name: "TestPeer", executable: path, arguments: arguments)
    }

    /// Closes our end and expects the peer to notice the EOF and exit cleanly.
    static func finish(_ transport: IPCTransport, _ process: ChildProcess, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        transport.close()
        let status = process.wait(timeout: .seconds(10))
        if status == nil { process.kill(SIGKILL); process.wait() }
        #expect(status == .exited(0), sourceLocation: sourceLocation)
    }
}

let testTimeout: Duration = .seconds(10)

/// The next message, recording an issue when something else arrives.
func expectMessage(
    _ transport: IPCTransport, timeout: Duration = testTimeout, sourceLocation: Testing.SourceLocation = #_sourceLocation
) -> IncomingMessage? {
    let event = transport.receive(timeout: timeout)
    guard case .message(let payload, let fds) = event else {
        Issue.record("expected a message, got \(event)", sourceLocation: sourceLocation)
        return nil
    }
    return IncomingMessage(payload: payload, fds: fds)
}

/// Polls `condition` every 2 ms until it holds or the timeout passes.
func waitUntil(timeout: Duration = testTimeout, _ condition: () -> Bool) -> Bool {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while !condition() {
        if ContinuousClock.now >= deadline { return false }
        usleep(2_000)
    }
    return true
}

func bytes(_ hex: String) -> [UInt8] {
    hex.split(separator: " ").compactMap { UInt8($0, radix: 16) }
}

func text(_ payload: [UInt8]) -> String { String(decoding: payload, as: UTF8.self) }

/// A pipe for fd tests; its inode identifies every copy of its ends, wherever they were passed.
struct TestPipe {
    let readEnd: Int32
    let writeEnd: Int32
    let inode: UInt64

    init() throws {
        let pipe = try Pipe.makeRaw()
        readEnd = pipe.readEnd
        writeEnd = pipe.writeEnd
        inode = try Descriptor.info(pipe.writeEnd).inode
    }

    /// How many fds of this process refer to this pipe (immune to fds other tests open meanwhile).
    var openCount: Int {
        Descriptor.openDescriptors().values.filter { $0 == "pipe:[\(inode)]" }.count
    }

    func duplicateWriteEnd() throws -> Int32 { try Descriptor.duplicate(writeEnd).release() }

    func close() { Descriptor.closeAll([readEnd, writeEnd]) }
}

/// Reads exactly `count` bytes (and any fds that come with them) from a raw socket, waiting up to `timeout`.
func receiveExactly(_ socket: Int32, count: Int, timeout: Duration = testTimeout) throws -> (bytes: [UInt8], fds: [Int32]) {
    var result: [UInt8] = []
    var fds: [Int32] = []
    var buffer = [UInt8](repeating: 0, count: count)
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while result.count < count {
        var pfd = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        guard ContinuousClock.now < deadline, poll(&pfd, 1, 50) >= 0 else { throw SystemError(errno: ETIMEDOUT, operation: "receiveExactly") }
        if pfd.revents == 0 { continue }
        let wanted = count - result.count
        let chunk = try buffer.withUnsafeMutableBytes { raw in
            try SocketMessaging.receiveMessage(socket, into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<wanted]))
        }
        if chunk.byteCount == 0, chunk.fds.isEmpty { throw SystemError(errno: ECONNRESET, operation: "receiveExactly: EOF") }
        result += buffer[0..<chunk.byteCount]
        fds += chunk.fds
    }
    return (result, fds)
}

/// True when nothing arrives on a raw socket within `timeout`.
func staysSilent(_ socket: Int32, for timeout: Duration = .milliseconds(100)) -> Bool {
    var pfd = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
    let milliseconds = Int32(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
    return poll(&pfd, 1, milliseconds) == 0
}

/// `count` bytes of a pattern that does not repeat at 4096-byte chunk boundaries (cheap even in debug builds).
func patternedPayload(count: Int, seed: UInt8 = 0) -> [UInt8] {
    let block = (0..<4093).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ Int(seed)) }
    var result: [UInt8] = []
    result.reserveCapacity(count + block.count)
    while result.count < count { result.append(contentsOf: block) }
    result.removeLast(result.count - count)
    return result
}
