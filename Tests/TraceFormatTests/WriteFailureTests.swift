import Dispatch
import Glibc
import IPCWire
import Synchronization
import Testing
@testable import TraceFormat

/// The writer when write(2) fails: the failure is told once, at once; nothing waits for the writer
/// afterwards; the file ends with whole records and an end record that says where and why it stopped.
@Suite struct WriteFailureTests {
    /// A write(2) that writes the first `budget` bytes of the file, then fails with `error` (a partial
    /// write first when a call straddles the budget, as a filling disk does).
    final class FailingDisk: Sendable {
        let budget: Int
        let error: Int32
        let written = Atomic<Int>(0)
        let calls = Atomic<Int>(0)

        init(budget: Int, error: Int32) {
            self.budget = budget
            self.error = error
        }

        var write: @Sendable (Int32, UnsafeRawPointer, Int) -> Int {
            { fd, bytes, count in
                self.calls.add(1, ordering: .relaxed)
                let room = self.budget - self.written.load(ordering: .relaxed)
                guard room > 0 else {
                    Glibc.errno = self.error
                    return -1
                }
                let result = Glibc.write(fd, bytes, min(room, count))
                if result > 0 { self.written.add(result, ordering: .relaxed) }
                return result
            }
        }
    }

    static func frame(_ index: Int) -> TraceRecord {
        .payloadFrame(PayloadFrameRecord(
            time: UInt64(index), channel: 1, direction: .aToB, frameIndex: UInt64(index), streamOffset: UInt64(index) * 112,
            header: .payload(size: 100, fdCount: 0), capturedPayload: Array(repeating: UInt8(index & 0xFF), count: 100)))
    }

    static let end = EndRecord(time: 99, summary: TraceSummary(channels: 1, frames: 5000, bytes: 500_000), cleanStop: true)

    /// The file header and header record of every trace here.
    static let headerSize = TraceFileLayout.fileHeaderSize + TraceRecord.header(Samples.header()).encoded()!.count
    static let frameSize = frame(0).encoded()!.count

    /// `extra`: bytes the disk takes after the header (0: the first batch fails at once; else mostly a
    /// partial write that cuts a record).
    @Test(arguments: [(EIO, 5000), (ENOSPC, 20_000), (EFBIG, 0), (ENOSPC, 300_000)])
    func aFailedWriteIsToldOnceAndTheTraceEndsWithWholeRecordsAndAnEndRecord(code: Int32, extra: Int) throws {
        let directory = TemporaryDirectory()
        let path = directory.file("failing.ipctrace")
        let budget = Self.headerSize + extra
        let disk = FailingDisk(budget: budget, error: code)
        let told = Mutex<[TraceWriteFailure]>([])
        let toldOnce = DispatchSemaphore(value: 0)
        var options = TraceWriter.Options(flushThresholdBytes: 4096)
        options.writeFunction = disk.write
        options.onWriteFailure = { failure in
            told.withLock { $0.append(failure) }
            toldOnce.signal()
        }
        let writer = try TraceWriter(path: path, header: Samples.header(), options: options)
        #expect(Int(writer.statistics.bytesWritten) == Self.headerSize)

        for index in 0..<5000 { _ = writer.submit(Self.frame(index), waitForRoom: true) }
        // Once the failure has been told, submits are refused, lossless ones too, without waiting. (How many
        // of the 5000 got in first depends on when the writer thread ran: not asserted.)
        // Woken when the writer thread tells the failure; the timeout only bounds a test that fails.
        #expect(toldOnce.wait(timeout: .now() + .seconds(30)) == .success,
                "the failure was not told while the writer was still open")
        #expect(!writer.submit(Self.frame(5000), waitForRoom: true), "a submit after the failure is refused")
        do {
            try writer.close(ending: Self.end)
            Issue.record("close did not report the failure")
        } catch {
            guard case .writeStopped(let failure) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(failure.errno == code)
            #expect(failure.description.contains("offset \(failure.offset)"))
        }
        // The frames fill ~650 KB: every budget here runs out, and the failure is told once.
        let failures = told.withLock { $0 }
        try #require(failures.count == 1, "\(failures)")
        let failure = failures[0]
        #expect(failure.errno == code)
        #expect(failure.operation == "write")
        #expect(failure.path == path)

        let report = try TraceReader(path: path).validate()
        #expect(report.isIntact, "\(report.corruptions)")
        #expect(report.truncatedTail == nil, "the cut record was truncated away")
        #expect(report.ending == .stoppedByWriteError)
        let end = try #require(report.end)
        #expect(end.errorNumber == code)
        #expect(end.failedOperation == "write")
        #expect(end.summary == Self.end.summary)
        // The end record starts exactly where writing stopped, after the last whole record.
        #expect(end.stopOffset == failure.offset)
        let endBytes = try #require(TraceRecord.end(end).encoded())
        #expect(Int(failure.offset) + endBytes.count == report.fileSize)
        // It keeps every whole record the disk took.
        #expect(Int(failure.offset) <= budget && Int(failure.offset) > budget - Self.frameSize, "offset \(failure.offset), budget \(budget)")
        #expect((Int(failure.offset) - Self.headerSize) % Self.frameSize == 0)
        // Frames in the file are the first ones, in order, with nothing missing before the stop.
        #expect(report.frameCount == report.count(of: .payloadFrame))
        let frames = try TraceReader(path: path).allRecords.compactMap { record -> UInt64? in
            if case .payloadFrame(let frame) = record { return frame.frameIndex }
            return nil
        }
        #expect(frames == (0..<UInt64(frames.count)).map { $0 })
    }

    @Test func losslessSubmittersWaitingForRoomAreReleasedByAFailure() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("stuck.ipctrace")
        // The disk blocks the writer thread until the test lets it fail.
        let gate = DispatchSemaphore(value: 0)
        let inWrite = DispatchSemaphore(value: 0)
        var options = TraceWriter.Options(queueBudgetBytes: 4096, flushThresholdBytes: 1024)
        let calls = Atomic<Int>(0)
        options.writeFunction = { fd, bytes, count in
            // The header goes out; the first batch blocks, then fails.
            if calls.add(1, ordering: .relaxed).oldValue == 0 { return Glibc.write(fd, bytes, count) }
            inWrite.signal()
            gate.wait()
            Glibc.errno = ENOSPC
            return -1
        }
        let writer = try TraceWriter(path: path, header: Samples.header(), options: options)
        let submitterDone = DispatchSemaphore(value: 0)
        let results = Mutex<[Bool]>([])
        DispatchQueue.global().async {
            // Lossless: fills the queue, then waits for room that only the (blocked) writer could make.
            for index in 0..<200 { results.withLock { $0.append(writer.submit(Self.frame(index), waitForRoom: true)) } }
            submitterDone.signal()
        }
        #expect(inWrite.wait(timeout: .now() + 30) == .success, "the writer thread started writing")
        // A bounded wait for the submitter to block; it must not finish while the writer is stuck.
        #expect(submitterDone.wait(timeout: .now() + 0.2) == .timedOut)
        gate.signal()
        // Released by the failure: every later submit is refused at once.
        #expect(submitterDone.wait(timeout: .now() + 30) == .success, "a lossless submitter still waits after the failure")
        let accepted = results.withLock { $0 }
        #expect(accepted.count == 200)
        #expect(accepted.contains(false))
        #expect(throws: TraceFileError.self) { try writer.close(ending: Self.end) }
        #expect(try TraceReader(path: path).validate().ending == .stoppedByWriteError)
    }

    @Test func aCompleteTraceSaysSoAndKeepsNoReservedSpace() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("complete.ipctrace")
        let writer = try TraceWriter(path: path, header: Samples.header())
        for index in 0..<100 { #expect(writer.submit(Self.frame(index), waitForRoom: true)) }
        try writer.close(ending: Self.end)
        let report = try TraceReader(path: path).validate()
        #expect(report.ending == .complete)
        #expect(report.end == Self.end)
        #expect(report.truncatedTail == nil)
        var info = stat()
        #expect(stat(path, &info) == 0)
        // The 1 MiB reserved ahead while writing is given back (blocks of 512 bytes; a little slack for metadata).
        #expect(Int(info.st_blocks) * 512 < Int(info.st_size) + 64 * 1024, "\(info.st_blocks) blocks for \(info.st_size) bytes")
    }
}

/// What may be at the output path, and when the trace appears there.
@Suite struct OutputPathTests {
    static func entries(_ directory: TemporaryDirectory) -> [String] {
        var names: [String] = []
        if let handle = opendir(directory.path) {
            while let entry = readdir(handle) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name != "." && name != ".." { names.append(name) }
            }
            closedir(handle)
        }
        return names.sorted()
    }

    @Test func aFileThatIsNotATraceIsRefusedUnlessReplacingAnyFile() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("notes.txt")
        let original = Array("precious notes\n".utf8)
        Files.write(original, to: path)
        do {
            _ = try TraceWriter(path: path, header: Samples.header())
            Issue.record("replaced a file that is not a trace")
        } catch {
            #expect(error == .existingOutput(path: path, .notATrace))
        }
        #expect(Files.read(path) == original)
        #expect(Self.entries(directory) == ["notes.txt"], "no temporary file left")

        var options = TraceWriter.Options()
        options.existingOutput = .replaceAnyFile
        try TraceWriter(path: path, header: Samples.header(), options: options).close()
        #expect(try TraceReader(path: path).validate().isIntact)
        #expect(Self.entries(directory) == ["notes.txt"])
    }

    @Test func anEmptyFileIsReplaced() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("empty.ipctrace")
        Files.write([], to: path)
        try TraceWriter(path: path, header: Samples.header()).close()
        #expect(try TraceReader(path: path).validate().isIntact)
    }

    @Test(arguments: [TraceWriter.ExistingOutput.replaceOnlyTraces, .replaceAnyFile])
    func aSymlinkIsNeitherFollowedNorReplaced(policy: TraceWriter.ExistingOutput) throws {
        let directory = TemporaryDirectory()
        let target = directory.file("target.ipctrace")
        try Samples.writeTrace(Samples.everyKind(), to: target)
        chmod(target, 0o644)
        let before = Files.read(target)
        let link = directory.file("link.ipctrace")
        #expect(symlink(target, link) == 0)
        var options = TraceWriter.Options()
        options.existingOutput = policy
        #expect(throws: TraceFileError.existingOutput(path: link, .symbolicLink)) {
            try TraceWriter(path: link, header: Samples.header(), options: options)
        }
        #expect(Files.read(target) == before)
        #expect(Files.mode(target) == 0o644)
        #expect(Self.entries(directory) == ["link.ipctrace", "target.ipctrace"])
    }

    @Test func anUnpublishedTraceLeavesThePathAloneAndIsRemovedWhenClosed() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("run.ipctrace")
        try Samples.writeTrace(Samples.everyKind(), to: path)
        let before = Files.read(path)
        var options = TraceWriter.Options()
        options.publishesAtOnce = false
        let writer = try TraceWriter(path: path, header: Samples.header(commandLine: ["new"]), options: options)
        #expect(!writer.isPublished)
        #expect(writer.currentPath.hasSuffix(".ipctrace.tmp"))
        #expect(Files.mode(writer.currentPath) == 0o600)
        #expect(Files.read(path) == before)
        #expect(writer.submit(Samples.everyKind()[0]))
        try writer.close(ending: WriteFailureTests.end)
        #expect(Files.read(path) == before, "a recording that never started replaces nothing")
        #expect(Self.entries(directory) == ["run.ipctrace"], "and leaves no temporary file")
    }

    @Test func publishingPutsTheTraceInPlaceWhileItIsWritten() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("live.ipctrace")
        try Samples.writeTrace(Samples.everyKind(), to: path)
        var options = TraceWriter.Options()
        options.publishesAtOnce = false
        let writer = try TraceWriter(path: path, header: Samples.header(commandLine: ["new"]), options: options)
        try writer.publish()
        #expect(writer.isPublished)
        #expect(writer.currentPath == path)
        // A reader at the path sees the new trace, growing.
        #expect(writer.submit(Samples.everyKind()[0]))
        try writer.flush()
        let live = try TraceReader(path: path)
        #expect(live.header?.commandLine == ["new"])
        #expect(live.allRecords.count == 2)
        try writer.close(ending: WriteFailureTests.end)
        #expect(try TraceReader(path: path).validate().ending == .complete)
        #expect(Self.entries(directory) == ["live.ipctrace"])
    }

    @Test func aFailedStartLeavesNothingBehind() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("t.ipctrace")
        try Samples.writeTrace(Samples.everyKind(), to: path)
        let before = Files.read(path)
        // Writing the header fails: the disk is full from the start.
        var options = TraceWriter.Options()
        options.writeFunction = { _, _, _ in
            Glibc.errno = ENOSPC
            return -1
        }
        #expect(throws: TraceFileError.system(path: path, operation: "write", errno: ENOSPC)) {
            try TraceWriter(path: path, header: Samples.header(), options: options)
        }
        #expect(Files.read(path) == before)
        #expect(Self.entries(directory) == ["t.ipctrace"])
    }
}
