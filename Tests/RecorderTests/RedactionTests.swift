import Glibc
import IPCTransport
import TestSupport
import Testing
import TraceFormat

/// `ipcscope redact` on a real recording: a program whose payloads, plain-socket bytes and argv hold
/// marked secrets. The redacted trace holds none of them anywhere in its bytes, and everything else —
/// records, sizes, envelopes, fds, counts — is as in the original, so `check`, `show` and `stats` agree.
@Suite(.serialized, .timeLimit(.minutes(5))) struct RedactionTests {
    static let secret = "SECRET-7f3a"

    /// Two channels: LibIPC frames whose payloads (after an envelope) hold the secret, one with a pipe fd
    /// and its acknowledgement; and a plain-text socketpair whose first bytes are the secret.
    static let program = """
    import os, socket, struct, sys
    secret = sys.argv[1].split('@')[0].encode()
    a, b = socket.socketpair()
    r, w = os.pipe()
    for i in range(20):
        payload = struct.pack('<II', 0x1D2C3B4A, i) + secret * 10
        frame = struct.pack('<B3xII', 0, len(payload), 1 if i == 0 else 0) + payload
        if i == 0:
            a.sendmsg([frame], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, bytes(memoryview(__import__('array').array('i', [r]))))])
        else:
            a.sendall(frame)
        got = b''
        while len(got) < len(frame):
            data, anc, _, _ = b.recvmsg(65536, socket.CMSG_SPACE(16))
            for level, kind, raw in anc:
                for fd in __import__('array').array('i', raw[:len(raw) - len(raw) % 4]):
                    os.close(fd)
            got += data
        if i == 0:
            b.sendall(struct.pack('<B3xII', 1, 0, 1))
            a.recv(12)
    c, d = socket.socketpair()
    c.sendall(secret + b' is not LibIPC')
    d.recv(100)
    print('ok')
    """

    struct Recorded {
        let directory: String
        let original: String
        let program: String
    }

    static func record() throws -> Recorded {
        let directory = makeScratchDirectory()
        let script = directory + "/secret.py"
        try write(Array(program.utf8), to: script)
        let trace = directory + "/original.ipctrace"
        let run = try ProgramRun.run(try ipcscopeExecutable(), [
            "record", "-o", trace, "--", "/usr/bin/env", "python3", script, "\(secret)@https://user:\(secret)@example.org/",
        ])
        try #require(run.status == .exited(0), "\(run.summary)")
        // The original holds the secret in payloads, argv and a plain channel's first bytes.
        try #require(occurrences(of: secret, in: try contents(trace)) > 20)
        return Recorded(directory: directory, original: trace, program: script)
    }

    @Test func aRedactedTraceHoldsNoSecretAndKeepsEverythingElse() throws {
        let recorded = try Self.record()
        let redacted = recorded.directory + "/redacted.ipctrace"
        let run = try ProgramRun.run(try ipcscopeExecutable(), ["redact", recorded.original, "-o", redacted])
        #expect(run.status == .exited(0), "\(run.summary)")
        #expect(run.standardError.isEmpty, "\(run.summary)")

        let bytes = try Self.contents(redacted)
        #expect(Self.occurrences(of: Self.secret, in: bytes) == 0, "the secret is still in the redacted trace")
        #expect(bytes.count == (try Self.contents(recorded.original)).count, "every record keeps its size")
        var info = stat()
        #expect(stat(redacted, &info) == 0 && info.st_mode & 0o777 == 0o600)

        let before = try TraceReader(path: recorded.original)
        let after = try TraceReader(path: redacted)
        let reportBefore = before.validate()
        let reportAfter = after.validate()
        #expect(reportAfter.isIntact && reportAfter.corruptions.isEmpty)
        #expect(reportAfter.countsByKind == reportBefore.countsByKind)
        #expect(reportAfter.fdCount == reportBefore.fdCount && reportAfter.payloadBytes == reportBefore.payloadBytes
                && reportAfter.capturedPayloadBytes == reportBefore.capturedPayloadBytes)

        let pairs = Array(zip(before.records(), after.records()))
        #expect(pairs.count == reportBefore.recordCount)
        var payloadsCompared = 0
        for ((offsetBefore, original), (offsetAfter, copy)) in pairs {
            #expect(offsetBefore == offsetAfter, "same offsets")
            switch (original, copy) {
            case (.payloadFrame(let frame), .payloadFrame(let redactedFrame)):
                #expect(redactedFrame.header == frame.header && redactedFrame.fds == frame.fds
                        && redactedFrame.frameIndex == frame.frameIndex && redactedFrame.time == frame.time)
                #expect(redactedFrame.capturedPayload.count == frame.capturedPayload.count)
                #expect(Array(redactedFrame.capturedPayload.prefix(8)) == Array(frame.capturedPayload.prefix(8)), "the envelope is kept")
                #expect(redactedFrame.capturedPayload.dropFirst(8).allSatisfy { $0 == 0 })
                payloadsCompared += 1
            case (.channelClassified(let classified), .channelClassified(let redactedClassified)):
                #expect(redactedClassified.channelProtocol == classified.channelProtocol)
                #expect(redactedClassified.evidence.count == classified.evidence.count)
                if classified.channelProtocol == .libIPC { #expect(redactedClassified.evidence == classified.evidence) }
            case (.process(let process), .process(let redactedProcess)):
                #expect(redactedProcess.executable == process.executable)
                #expect(redactedProcess.arguments.first == process.arguments.first)
                #expect(redactedProcess.arguments.map(\.utf8.count) == process.arguments.map(\.utf8.count))
            case (.header, .header), (.channelOpened, .channelOpened), (.endpointResolved, .endpointResolved):
                break  // masked text, checked by the byte search above
            default:
                #expect(copy == original, "records with nothing secret are copied unchanged")
            }
        }
        #expect(payloadsCompared == 20)

        // The reading commands count the same.
        for command in [["check"], ["show"], ["stats", "--json"]] {
            let one = try ProgramRun.run(try ipcscopeExecutable(), command + [recorded.original])
            let other = try ProgramRun.run(try ipcscopeExecutable(), command + [redacted])
            #expect(one.status == .exited(0) && other.status == .exited(0), "\(command): \(other.summary)")
            #expect(Self.lines(other.standardOutput, without: redacted) == Self.lines(one.standardOutput, without: recorded.original),
                    "\(command) reads the redacted trace as the original")
        }
    }

    @Test func keepCommandsKeepsTheCommandLinesButNotThePayloads() throws {
        let recorded = try Self.record()
        let redacted = recorded.directory + "/kept.ipctrace"
        let run = try ProgramRun.run(try ipcscopeExecutable(), ["redact", recorded.original, "-o", redacted, "--keep-commands"])
        #expect(run.status == .exited(0), "\(run.summary)")
        let processes = try TraceReader(path: redacted).records().compactMap { if case .process(let p) = $1 { p } else { nil } }
        #expect(processes.contains { $0.arguments.contains { $0.contains("https://user:\(Self.secret)@example.org/") } })
        let frames = try TraceReader(path: redacted).records().compactMap { if case .payloadFrame(let f) = $1 { f } else { nil } }
        #expect(!frames.isEmpty && frames.allSatisfy { $0.capturedPayload.dropFirst(8).allSatisfy { $0 == 0 } })
    }

    @Test func anOutputThatIsNotATraceIsNotReplaced() throws {
        let recorded = try Self.record()
        let notes = recorded.directory + "/notes.txt"
        try Self.write(Array("my notes".utf8), to: notes)
        let run = try ProgramRun.run(try ipcscopeExecutable(), ["redact", recorded.original, "-o", notes])
        #expect(run.status == .exited(73), "\(run.summary)")
        #expect(run.standardError.hasPrefix("ipcscope redact: cannot create \(notes): "), "\(run.summary)")
        #expect(try Self.contents(notes) == Array("my notes".utf8))
        let missing = try ProgramRun.run(try ipcscopeExecutable(), ["redact", recorded.directory + "/absent.ipctrace", "-o", notes])
        #expect(missing.status == .exited(66) && missing.standardError.hasPrefix("ipcscope redact: ")
                && missing.standardError.contains("(ENOENT, errno 2)"), "\(missing.summary)")
        #expect(try Self.contents(notes) == Array("my notes".utf8))
        let usage = try ProgramRun.run(try ipcscopeExecutable(), ["redact", recorded.original])
        #expect(usage.status == .exited(64), "-o is required: \(usage.summary)")
    }

    // MARK: helpers

    /// The lines of a command's output but those naming the file, and `check`'s host and command line
    /// (masked on purpose).
    static func lines(_ output: String, without path: String) -> [Substring] {
        output.split(separator: "\n").filter {
            !$0.contains(path) && !$0.hasPrefix("  created ") && !$0.hasPrefix("  command line ")
        }
    }

    static func occurrences(of needle: String, in bytes: [UInt8]) -> Int {
        let pattern = Array(needle.utf8)
        guard bytes.count >= pattern.count else { return 0 }
        return (0...(bytes.count - pattern.count)).filter { bytes[$0..<($0 + pattern.count)].elementsEqual(pattern) }.count
    }

    static func contents(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError(errno: errno, operation: "open \(path)") }
        defer { Descriptor.close(fd) }
        return try Descriptor.readToEnd(fd)
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SystemError(errno: errno, operation: "open \(path)") }
        defer { Descriptor.close(fd) }
        try Descriptor.writeAll(fd, bytes)
    }
}
