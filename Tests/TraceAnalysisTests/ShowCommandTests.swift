import Foundation
import Glibc
import IPCWire
import TestSupport
import Testing
import TraceFormat

/// `ipcscope show` through the built binary, against hand counts over TraceReader's records.
@Suite struct ShowCommandTests {
    static let demoTrace = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Traces/demo.ipctrace").standardizedFileURL.path

    static func ipcscope() throws -> String {
        guard let path = BuiltProducts.executable("ipcscope") else { throw BuiltProducts.Missing(what: "ipcscope") }
        return path
    }

    static func show(_ arguments: [String]) throws -> CommandResult {
        try CommandRunner.run(try ipcscope(), ["show"] + arguments)
    }

    static func records(_ path: String) throws -> [(offset: Int, record: TraceRecord)] {
        try TraceReader(path: path).records().map { (offset: $0.offset, record: $0.record) }
    }

    /// Summary lines: detail lines (-V) are indented by 8 spaces.
    static func summaryLines(_ output: String) -> [Substring] {
        output.split(separator: "\n").filter { !$0.hasPrefix("        ") }
    }

    @Test func listsEveryEventButTheHeaderAndQueueSamples() throws {
        let records = try Self.records(Self.demoTrace)
        let listed = records.count { $0.record.kind != .header && $0.record.kind != .queueSample }
        #expect(listed > 300)
        let result = try Self.show([Self.demoTrace])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty)
        let lines = Self.summaryLines(result.stdout)
        #expect(lines.count == listed)
        // Numbered in time order among all events but the header (hidden samples leave gaps), times never
        // decreasing (time order, not file order).
        let numbers = lines.compactMap { Int($0.prefix(6).trimmingCharacters(in: .whitespaces)) }
        #expect(numbers.count == listed && numbers.first == 1 && numbers.last == records.count - 1)
        #expect(zip(numbers, numbers.dropFirst()).allSatisfy { $0 < $1 })
        let times = lines.compactMap { Double($0.dropFirst(7).prefix(11).trimmingCharacters(in: .whitespaces)) }
        #expect(times.count == listed)
        #expect(zip(times, times.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(times.first == 0)
    }

    @Test func filterSelectsWhatAHandCountSelects() throws {
        let records = try Self.records(Self.demoTrace)
        let aToBFrames = records.count {
            if case .payloadFrame(let frame) = $0.record { return frame.direction == .aToB }
            return false
        }
        let samples = records.count { $0.record.kind == .queueSample }
        let eofs = records.count { $0.record.kind == .eof }
        #expect(aToBFrames > 0 && samples > 0)
        for (filter, expected) in [("kind == frame and dir == a>b", aToBFrames), ("kind == sample", samples), ("kind == eof", eofs)] {
            let result = try Self.show([Self.demoTrace, "-f", filter])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(Self.summaryLines(result.stdout).count == expected, "\(filter)")
        }
        // A line has the same number with and without a filter.
        let all = Set(Self.summaryLines(try Self.show([Self.demoTrace, "-f", "kind == sample or kind == frame"]).stdout))
        let frames = Self.summaryLines(try Self.show([Self.demoTrace, "-f", "kind == frame"]).stdout)
        #expect(!frames.isEmpty && frames.allSatisfy { all.contains($0) })
        let pings = try Self.show([Self.demoTrace, "-f", "message == \"*::ping\""])
        let lines = Self.summaryLines(pings.stdout)
        #expect(!lines.isEmpty && lines.allSatisfy { $0.contains("DemoWebContentServer::ping") && $0.contains("SYNC") })
    }

    @Test func countStopsAfterNLines() throws {
        let result = try Self.show([Self.demoTrace, "-c", "5"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Self.summaryLines(result.stdout).count == 5)
        let verbose = try Self.show([Self.demoTrace, "-c", "5", "-V", "-f", "kind == frame"])
        #expect(Self.summaryLines(verbose.stdout).count == 5)
    }

    @Test func aBadFilterNamesItsColumn() throws {
        let result = try Self.show([Self.demoTrace, "-f", "size >"])
        #expect(result.status == 64)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.hasPrefix("ipcscope show: -f: column 7: expected a value"), "\(result.stderr)")
    }

    @Test func missingAndNonTraceFilesFail() throws {
        let missing = try Self.show(["/nonexistent/trace.ipctrace"])
        #expect(missing.status == 66)  // EX_NOINPUT
        #expect(missing.stderr.hasPrefix("ipcscope show: "), "\(missing.stderr)")
        let notATrace = try Self.show([#filePath])
        #expect(notATrace.status == 65)  // EX_DATAERR
        #expect(notATrace.stderr.hasPrefix("ipcscope show: ") && notATrace.stderr.contains("not an ipcscope trace"), "\(notATrace.stderr)")
        #expect(notATrace.stdout.isEmpty)
    }

    /// --time absolute is the header's wall clock at the event (docs/trace-format.md §5.1); delta starts at 0.
    @Test func absoluteAndDeltaTimes() throws {
        let reader = try TraceReader(path: Self.demoTrace)
        let header = try #require(reader.header)
        let first = try #require(Self.records(Self.demoTrace).filter { $0.record.kind != .header }.min {
            ($0.record.time, $0.offset) < ($1.record.time, $1.offset)
        })
        let wall = header.wallClockNanoseconds(ofMonotonic: first.record.time)
        var seconds = time_t(wall / 1_000_000_000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let expected = String(format: "%04d-%02d-%02d %02d:%02d:%02d.%06d", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                              parts.tm_hour, parts.tm_min, parts.tm_sec, Int32(wall % 1_000_000_000 / 1000))
        let absolute = try Self.show([Self.demoTrace, "--time", "absolute", "-c", "1"])
        #expect(absolute.status == 0, "\(absolute.stderr)")
        #expect(absolute.stdout.dropFirst(7).hasPrefix(expected), "\(absolute.stdout) vs \(expected)")
        let delta = try Self.show([Self.demoTrace, "--time", "delta"])
        let deltas = Self.summaryLines(delta.stdout).compactMap { Double($0.dropFirst(7).prefix(11).trimmingCharacters(in: .whitespaces)) }
        #expect(deltas.first == 0)
        #expect(deltas.count == Self.summaryLines(delta.stdout).count && deltas.allSatisfy { $0 >= 0 })
        let bad = try Self.show([Self.demoTrace, "--time", "sideways"])
        #expect(bad.status == 64 && bad.stderr.hasPrefix("ipcscope show: --time"))
    }

    /// A damaged trace lists what is readable, names the damage, and fails; it never crashes.
    @Test func damagedTracesAreListedAroundAndFail() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("show-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let original = try Array(Data(contentsOf: URL(fileURLWithPath: Self.demoTrace)))
        let intact = Self.summaryLines(try Self.show([Self.demoTrace]).stdout).count
        var flipped = original
        flipped[original.count / 2] ^= 0x10
        var garbage = original
        var generator = SplitMix64(seed: 11)
        garbage.replaceSubrange(original.count / 3..<original.count / 3 + 4096, with: generator.bytes(4096))
        for (name, bytes) in [("flipped", flipped), ("garbage", garbage)] {
            let path = directory.appendingPathComponent("\(name).ipctrace").path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let result = try Self.show([path])
            #expect(result.status == 65, "\(name): \(result.stderr)")  // EX_DATAERR
            #expect(result.stderr.hasPrefix("ipcscope show: \(path): damaged record at offset "), "\(name): \(result.stderr)")
            let lines = Self.summaryLines(result.stdout).count
            #expect(lines > 0 && lines < intact, "\(name): \(lines) of \(intact)")
        }
        // A truncated tail (a killed recorder) is not damage.
        let truncated = directory.appendingPathComponent("truncated.ipctrace").path
        try Data(original.prefix(original.count - 7)).write(to: URL(fileURLWithPath: truncated))
        let result = try Self.show([truncated])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Self.summaryLines(result.stdout).count == intact - 1)
    }

    /// -V's hex dumps, frame by frame in time order, equal the captured payloads.
    @Test func verboseHexDumpsEqualTheCapturedBytes() throws {
        let frames = try Self.records(Self.demoTrace).compactMap { entry -> (time: UInt64, offset: Int, bytes: [UInt8])? in
            guard case .payloadFrame(let frame) = entry.record else { return nil }
            return (frame.time, entry.offset, frame.capturedPayload)
        }.sorted { ($0.time, $0.offset) < ($1.time, $1.offset) }
        let result = try Self.show([Self.demoTrace, "-V", "-f", "kind == frame"])
        #expect(result.status == 0, "\(result.stderr)")
        var dumps: [[UInt8]] = []
        for line in result.stdout.split(separator: "\n", omittingEmptySubsequences: false) {
            if !line.hasPrefix("        ") {
                if !line.isEmpty { dumps.append([]) }
                continue
            }
            let body = line.dropFirst(8)
            guard body.range(of: #"^[0-9a-f]{4}  "#, options: .regularExpression) != nil, let bar = body.range(of: " |") else { continue }
            let offset = Int(body.prefix(4), radix: 16)
            #expect(offset == dumps[dumps.count - 1].count)
            dumps[dumps.count - 1] += body[body.index(body.startIndex, offsetBy: 6)..<bar.lowerBound]
                .split(separator: " ").compactMap { UInt8($0, radix: 16) }
        }
        #expect(dumps.count == frames.count)
        let mismatch = zip(dumps, frames).enumerated().first { $0.element.0 != $0.element.1.bytes }?.offset
        #expect(mismatch == nil, "frame \(mismatch ?? -1) in time order: the dump differs from the captured payload")
        #expect(result.stdout.contains("protocol: ByteString = \"https\""))
    }

    /// Without embedded schemas a frame shows magic:id; --schema DIR finds .ipc files in subdirectories.
    @Test func schemaDirectoriesNameMessages() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("show-\(UUID().uuidString)")
        let nested = directory.appendingPathComponent("Services/Demo")
        try FileManager.default.createDirectory(at: nested, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "endpoint Demo {\n    ping(u32 cookie) => (u32 cookie)\n}\n".write(
            to: nested.appendingPathComponent("Demo.ipc"), atomically: true, encoding: .utf8)
        let path = directory.appendingPathComponent("plain.ipctrace").path
        let header = TraceHeader(
            createdWallClockNanoseconds: 1_790_000_000_000_000_000, monotonicAnchorNanoseconds: 1_000_000_000,
            hostName: "test", ipcscopeVersion: "0.1.0", commandLine: ["test"], snapLength: 4096)
        let writer = try TraceWriter(path: path, header: header)
        var payload: [UInt8] = []
        withUnsafeBytes(of: EndpointMagic.of("Demo").littleEndian) { payload += $0 }
        payload += [1, 0, 0, 0, 7, 0, 0, 0]
        #expect(writer.submit(.payloadFrame(PayloadFrameRecord(
            time: 1_000_001_000, channel: 1, direction: .aToB, frameIndex: 0, streamOffset: 0,
            header: FrameHeader(type: .payload, payloadSize: 12, fdCount: 0), capturedPayload: payload)), waitForRoom: true))
        try writer.close()
        let magic = String(EndpointMagic.of("Demo"), radix: 16)
        let plain = try Self.show([path])
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(plain.stdout.contains("0x" + String(repeating: "0", count: 8 - magic.count) + magic + ":1"), "\(plain.stdout)")
        let named = try Self.show([path, "--schema", directory.path, "-V"])
        #expect(named.status == 0, "\(named.stderr)")
        #expect(named.stdout.contains("Demo::ping") && named.stdout.contains("cookie: u32 = 7"), "\(named.stdout)")
        let missing = try Self.show([path, "--schema", directory.appendingPathComponent("nope").path])
        #expect(missing.status == 64 && missing.stderr.hasPrefix("ipcscope show: --schema"))
    }

    /// --follow on a trace `ipcscope demo` is recording ends at its end record with the events a later `show` lists.
    @Test func followingARealRecordingEndsWithItsEvents() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("show-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("demo.ipctrace").path
        let demo = Process()
        demo.executableURL = URL(fileURLWithPath: try Self.ipcscope())
        demo.arguments = ["demo", "-o", path, "--messages", "200"]
        demo.standardOutput = FileHandle.nullDevice
        demo.standardError = FileHandle.nullDevice
        try demo.run()
        // The recorder renames the trace into place once recording has started. A rename raises no event we
        // can wait on here, so this polls for the file; the bound only ends a broken test.
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: path), demo.isRunning, Date() < deadline { usleep(2_000) }
        #expect(FileManager.default.fileExists(atPath: path))
        let followed = try Self.show(["--follow", path])
        demo.waitUntilExit()
        #expect(demo.terminationStatus == 0)
        #expect(followed.status == 0, "\(followed.stderr)")
        let after = try Self.show([path])
        #expect(after.status == 0)
        let followedLines = Self.summaryLines(followed.stdout)
        #expect(followedLines.count == Self.summaryLines(after.stdout).count)
        #expect(followedLines.last?.contains("END clean") == true)
        // The same events (by time; a line printed before its response arrived says `SYNC (no response)`).
        let times = { (lines: [Substring]) in lines.map { $0.dropFirst(7).prefix(11) }.sorted() }
        #expect(times(followedLines) == times(Self.summaryLines(after.stdout)))
        let records = try Self.records(path)
        #expect(records.count { $0.record.kind == .payloadFrame } > 100)
        #expect(followedLines.count == records.count { $0.record.kind != .header && $0.record.kind != .queueSample })
    }

    /// Colour on a terminal (a pseudo-terminal here), none with NO_COLOR set, none into a pipe.
    @Test func colourOnlyOnATerminalWithoutNoColor() throws {
        let arguments = ["show", Self.demoTrace.replacingOccurrences(of: "demo.ipctrace", with: "demo-misbehave.ipctrace"),
                         "-f", "kind == violation", "-c", "1"]
        func onTerminal(_ environment: [String: String]) throws -> String {
            let pty = try #require(PseudoTerminal())
            let master = pty.master
            defer { close(master) }
            let slave = open(pty.slavePath, O_RDWR | O_NOCTTY)
            #expect(slave >= 0)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: try Self.ipcscope())
            process.arguments = arguments
            process.environment = environment
            process.standardOutput = FileHandle(fileDescriptor: slave, closeOnDealloc: true)
            try process.run()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            var output = LineCollector(fd: master)
            _ = output.waitFor(lines: 1)
            return output.lines.first ?? ""
        }
        var environment = ProcessInfo.processInfo.environment
        environment["NO_COLOR"] = nil
        #expect(try onTerminal(environment).contains("\u{1B}[1;31mVIOLATION too-many-fds-in-frame"))
        environment["NO_COLOR"] = "1"
        let plain = try onTerminal(environment)
        #expect(plain.contains("VIOLATION too-many-fds-in-frame") && !plain.contains("\u{1B}"))
        let piped = try CommandRunner.run(try Self.ipcscope(), arguments)
        #expect(piped.stdout.contains("VIOLATION") && !piped.stdout.contains("\u{1B}"))
    }

    /// --follow prints what a writer appends while it runs and exits 0 at the end record.
    @Test func followPrintsAGrowingTraceUntilItsEnd() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("show-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("live.ipctrace").path
        let header = TraceHeader(
            createdWallClockNanoseconds: 1_790_000_000_000_000_000, monotonicAnchorNanoseconds: 1_000_000_000,
            hostName: "test", ipcscopeVersion: "0.1.0", commandLine: ["test"], snapLength: 4096,
            schemas: [.init(path: "Demo.ipc", text: "endpoint Demo {\n    ping(u32 cookie) => (u32 cookie)\n}\n")])
        let writer = try TraceWriter(path: path, header: header)
        var time: UInt64 = 1_000_000_000
        func frame(_ index: UInt64) -> TraceRecord {
            time += 1000
            var payload: [UInt8] = []
            withUnsafeBytes(of: EndpointMagic.of("Demo").littleEndian) { payload += $0 }
            payload += [1, 0, 0, 0, UInt8(truncatingIfNeeded: index), 0, 0, 0]
            return .payloadFrame(PayloadFrameRecord(
                time: time, channel: 1, direction: .aToB, frameIndex: index, streamOffset: index * 24,
                header: FrameHeader(type: .payload, payloadSize: 12, fdCount: 0), capturedPayload: payload))
        }
        for index in 0..<3 { #expect(writer.submit(frame(UInt64(index)), waitForRoom: true)) }
        try writer.flush()

        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Self.ipcscope())
        process.arguments = ["show", "--follow", path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        var output = LineCollector(fd: pipe.fileHandleForReading.fileDescriptor)
        let arrived1 = output.waitFor(lines: 3)
        #expect(arrived1)
        #expect(output.lines.count == 3)
        for index in 3..<8 { #expect(writer.submit(frame(UInt64(index)), waitForRoom: true)) }
        try writer.flush()
        let arrived2 = output.waitFor(lines: 8)
        #expect(arrived2)
        try writer.close(ending: EndRecord(time: time + 1000, summary: TraceSummary(channels: 1, frames: 8, bytes: 8 * 24), cleanStop: true))
        let arrived3 = output.waitFor(lines: 9)
        #expect(arrived3)
        let arrived4 = output.waitForEOF()
        #expect(arrived4)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(output.lines.count == 9)
        #expect(output.lines.prefix(8).allSatisfy { $0.contains("Demo::ping") })
        #expect(output.lines.last?.contains("END clean") == true)
    }

    /// Ctrl-C ends --follow on a trace that has no end record yet, with status 0.
    @Test func followStopsOnSIGINT() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("show-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("unfinished.ipctrace").path
        // Everything of demo.ipctrace but its end record: a recording still going.
        let reader = try TraceReader(path: Self.demoTrace)
        let end = try #require(reader.records().first { $0.record.kind == .end }?.offset)
        try Data(try Array(Data(contentsOf: URL(fileURLWithPath: Self.demoTrace))).prefix(end)).write(to: URL(fileURLWithPath: path))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Self.ipcscope())
        process.arguments = ["show", "--follow", path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        var output = LineCollector(fd: pipe.fileHandleForReading.fileDescriptor)
        let listed = Self.summaryLines(try Self.show([path]).stdout).count
        let arrived = output.waitFor(lines: listed)
        #expect(arrived)
        process.interrupt()
        let closed = output.waitForEOF()
        #expect(closed)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
        #expect(output.lines.count == listed)
    }
}

/// Reads a child's stdout line by line with bounded waits (poll), so a child that prints nothing fails the test.
struct LineCollector {
    let fd: Int32
    var lines: [String] = []
    var pending: [UInt8] = []
    var closed = false

    init(fd: Int32) { self.fd = fd }

    /// Reads until `lines` lines arrived, the pipe closed, or 30 s passed.
    mutating func waitFor(lines count: Int) -> Bool {
        let deadline = Date().addingTimeInterval(30)
        while lines.count < count, !closed, Date() < deadline { readSome() }
        return lines.count >= count
    }

    mutating func waitForEOF() -> Bool {
        let deadline = Date().addingTimeInterval(30)
        while !closed, Date() < deadline { readSome() }
        return closed
    }

    private mutating func readSome() {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, 200) > 0 else { return }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = read(fd, &buffer, buffer.count)
        if n <= 0 {
            closed = true
            return
        }
        pending += buffer[..<n]
        while let newline = pending.firstIndex(of: 10) {
            lines.append(String(decoding: pending[..<newline], as: UTF8.self))
            pending.removeSubrange(...newline)
        }
    }
}

/// A pseudo-terminal pair. posix_openpt and friends are not in Swift's Glibc module (they need
/// _XOPEN_SOURCE), so they are looked up in libc by name.
struct PseudoTerminal {
    let master: Int32
    let slavePath: String

    init?() {
        typealias IntCall = @convention(c) (Int32) -> Int32
        typealias NameCall = @convention(c) (Int32) -> UnsafeMutablePointer<CChar>?
        guard let libc = dlopen(nil, RTLD_NOW),
              let open = dlsym(libc, "posix_openpt"), let grant = dlsym(libc, "grantpt"),
              let unlock = dlsym(libc, "unlockpt"), let name = dlsym(libc, "ptsname") else { return nil }
        let master = unsafeBitCast(open, to: IntCall.self)(O_RDWR | O_NOCTTY)
        guard master >= 0 else { return nil }
        guard unsafeBitCast(grant, to: IntCall.self)(master) == 0, unsafeBitCast(unlock, to: IntCall.self)(master) == 0,
              let path = unsafeBitCast(name, to: NameCall.self)(master) else {
            close(master)
            return nil
        }
        self.master = master
        slavePath = String(cString: path)
    }
}
