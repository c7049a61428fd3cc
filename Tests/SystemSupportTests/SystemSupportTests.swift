import Glibc
import Synchronization
import SystemSupport
import Testing

@Suite("System layer")
struct SystemSupportTests {
    @Test func retryingOnInterruptRetriesEINTRAndReportsOtherErrors() {
        var calls = 0
        let result = try? retryingOnInterrupt("probe") { () -> Int32 in
            calls += 1
            if calls < 3 { errno = EINTR; return -1 }
            return 7
        }
        #expect(result == 7)
        #expect(calls == 3)
        #expect(throws: SystemError(errno: EBADF, operation: "probe")) {
            try retryingOnInterrupt("probe") { () -> Int32 in errno = EBADF; return -1 }
        }
    }

    @Test func writeAllCompletesShortAndInterruptedWrites() throws {
        let bytes: [UInt8] = Array(0..<100)
        var received: [UInt8] = []
        var offsets: [Int] = []
        var calls = 0
        try bytes.withUnsafeBytes { buffer in
            try writeAll(buffer, "write") { rest, before in
                calls += 1
                if calls == 2 { errno = EINTR; return -1 }
                offsets.append(before)
                let taken = min(rest.count, 30)  // a short write each time
                received.append(contentsOf: rest.prefix(taken))
                return taken
            }
        }
        #expect(received == bytes)
        #expect(offsets == [0, 30, 60, 90])
    }

    @Test func writeAllTellsHowFarItGotAndTreatsNoProgressAsEIO() {
        let bytes = [UInt8](repeating: 1, count: 10)
        bytes.withUnsafeBytes { buffer in
            var calls = 0
            #expect(throws: IncompleteWrite(error: SystemError(errno: ENOSPC, operation: "write"), written: 4)) {
                try writeAll(buffer, "write") { rest, _ in
                    calls += 1
                    if calls == 1 { return 4 }
                    errno = ENOSPC
                    return -1
                }
            }
            #expect(throws: IncompleteWrite(error: SystemError(errno: EIO, operation: "write"), written: 0)) {
                try writeAll(buffer, "write") { _, _ in 0 }
            }
        }
    }

    // Whether an fd was closed is asked of the pipe's other end, never of the fd number: tests run in
    // parallel, and another one may already have been given that number again.

    /// A pipe whose read end is closed says POLLERR on its write end.
    static func readEndClosed(writeEnd: Int32) -> Bool {
        var entry = pollfd(fd: writeEnd, events: Int16(POLLOUT), revents: 0)
        return poll(&entry, 1, 0) == 1 && entry.revents & Int16(POLLERR) != 0
    }

    /// A pipe whose write end is closed says POLLHUP on its read end.
    static func writeEndClosed(readEnd: Int32) -> Bool {
        var entry = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) == 1 && entry.revents & Int16(POLLHUP) != 0
    }

    @Test func anOwnedFDIsClosedOnceByCloseOrWhenDropped() throws {
        var fds: [Int32] = [-1, -1]
        #expect(pipe(&fds) == 0)
        #expect(!Self.readEndClosed(writeEnd: fds[1]))
        let readEnd = OwnedFD(adopting: fds[0])
        try readEnd.close()
        #expect(Self.readEndClosed(writeEnd: fds[1]))
        // (`readEnd.close()` again would not compile: close consumes the value.)
        var other: [Int32] = [-1, -1]
        #expect(pipe(&other) == 0)
        #expect(!Self.writeEndClosed(readEnd: other[0]))
        do { _ = OwnedFD(adopting: other[1]) }
        #expect(Self.writeEndClosed(readEnd: other[0]))
        close(fds[1])
        close(other[0])
    }

    @Test func releaseHandsTheFDOnWithoutClosingIt() throws {
        var fds: [Int32] = [-1, -1]
        #expect(pipe(&fds) == 0)
        let raw = OwnedFD(adopting: fds[0]).release()
        #expect(fcntl(raw, F_GETFD) != -1)
        try OwnedFD(adopting: raw).close()
        try OwnedFD(adopting: fds[1]).close()
    }

    @Test func aSharedFDClosesOnceWhateverHowManyAsk() throws {
        var fds: [Int32] = [-1, -1]
        #expect(pipe(&fds) == 0)
        let shared = SharedFD(OwnedFD(adopting: fds[0]))
        #expect(try shared.close())
        #expect(try !shared.close())
        #expect(Self.readEndClosed(writeEnd: fds[1]))
        try OwnedFD(adopting: fds[1]).close()
    }

    @Test func aSharedFDLendsItsFDOnlyWhileOpenAndCanBeTakenOnce() throws {
        var fds: [Int32] = [-1, -1]
        #expect(pipe(&fds) == 0)
        let shared = SharedFD(OwnedFD(adopting: fds[0]))
        #expect(shared.withOpenFD { $0 } == fds[0])
        let first = shared.take()?.release()
        let second = shared.take()?.release()
        let taken = try #require(first)
        #expect(second == nil)
        #expect(shared.withOpenFD { _ in true } == nil)  // a shutdown(2) here would reach no one
        #expect(!Self.readEndClosed(writeEnd: fds[1]))  // taking is not closing
        try OwnedFD(adopting: taken).close()
        #expect(Self.readEndClosed(writeEnd: fds[1]))
        try OwnedFD(adopting: fds[1]).close()
    }

    @Test func ownedFDsCloseEveryOneWhenDroppedAndNoneWhenReleased() throws {
        var first: [Int32] = [-1, -1]
        var second: [Int32] = [-1, -1]
        #expect(pipe(&first) == 0 && pipe(&second) == 0)
        do {
            var owned = OwnedFDs()
            owned.append(OwnedFD(adopting: first[1]))
            owned.append(OwnedFD(adopting: second[1]))
            #expect(owned.rawValues == [first[1], second[1]])
        }
        #expect(Self.writeEndClosed(readEnd: first[0]))
        #expect(Self.writeEndClosed(readEnd: second[0]))
        var kept = OwnedFDs()
        kept.append(OwnedFD(adopting: first[0]))
        let raw = kept.release()
        #expect(raw == [first[0]])
        #expect(fcntl(first[0], F_GETFD) != -1)  // still ours: nothing else ran in between
        try OwnedFD(adopting: first[0]).close()
        try OwnedFD(adopting: second[0]).close()
    }

    @Test func aThreadRunsItsBodyWithItsNameAndJoinsOnce() throws {
        let name = Mutex<String>("")
        let thread = try OSThread(name: "syslayer-probe") {
            // The kernel's name for this thread, as /proc and debuggers show it.
            let fd = open("/proc/thread-self/comm", O_RDONLY | O_CLOEXEC)
            var buffer = [UInt8](repeating: 0, count: 32)
            let count = fd >= 0 ? read(fd, &buffer, buffer.count) : -1
            close(fd)
            let text = String(decoding: buffer.prefix(max(count, 0)), as: UTF8.self)
            name.withLock { $0 = text.hasSuffix("\n") ? String(text.dropLast()) : text }
        }
        thread.join()
        thread.join()
        #expect(name.withLock { $0 } == "syslayer-probe")
    }
}
