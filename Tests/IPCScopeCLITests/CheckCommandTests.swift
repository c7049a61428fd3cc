import Foundation
import Glibc
import TestSupport
import Testing

/// `check` on files that are not traces: a clear message and a non-zero exit, never a hang.
@Suite struct CheckCommandTests {
    /// A FIFO would block a plain open(2) until someone writes to it; `check` refuses it at once.
    @Test func aFIFOIsRefusedWithoutWaitingForAWriter() throws {
        let directory = NSTemporaryDirectory() + "ipcscope-check-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let fifo = directory + "/trace.ipctrace"
        #expect(mkfifo(fifo, 0o600) == 0)
        // The timeout only bounds a regression (a hang); the assertions are about the output.
        let result = try CommandRunner.run(try SchemaCommandTests.ipcscopeBinary(), ["check", fifo], timeoutSeconds: 20)
        #expect(result.status != 0)
        #expect((result.stdout + result.stderr).contains("not a regular file"), "\(result.stdout)\(result.stderr)")
    }
}
