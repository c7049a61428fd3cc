// Writes trace records to the path given as the first argument until killed, flushing as it goes, and
// prints "ready" after the first flush. TraceFormatTests SIGKILLs it to check that every record handed
// to write(2) survives the death of the writing process. `--benchmark PATH` prints rough rates instead.
import Glibc
import IPCWire
import TraceFormat

let arguments = CommandLine.arguments
if arguments.count == 3 && arguments[1] == "--benchmark" {
    do {
        try Benchmark.run(path: arguments[2])
        exit(0)
    } catch {
        print("TraceWriterStress: \(error)")
        exit(1)
    }
}
guard arguments.count == 2 else {
    print("usage: TraceWriterStress PATH | TraceWriterStress --benchmark PATH")
    exit(2)
}

let header = TraceHeader.startingNow(
    ipcscopeVersion: "stress", commandLine: arguments, snapLength: 4096)
let writer: TraceWriter
do {
    writer = try TraceWriter(path: arguments[1], header: header)
} catch {
    print("TraceWriterStress: \(error)")
    exit(1)
}

var payload = [UInt8](repeating: 0, count: 6000)
var frameIndex: UInt64 = 0
var streamOffset: UInt64 = 0
var announced = false
while true {
    for _ in 0..<200 {
        let size = Int(frameIndex % 5000)
        for i in 0..<16 { payload[i] = UInt8(truncatingIfNeeded: frameIndex >> (8 * UInt64(i % 8))) }
        let frameHeader = FrameHeader.payload(size: size, fdCount: Int(frameIndex % 3))
        let fds = (0..<Int(frameIndex % 3)).map { AttachedFD(kind: .memfd, inode: UInt64($0), size: 4096) }
        payload.withUnsafeBytes { bytes in
            _ = writer.submitPayloadFrame(
                time: TraceClock.monotonicNanoseconds(), channel: 1, direction: .aToB, frameIndex: frameIndex,
                streamOffset: streamOffset, header: frameHeader,
                payload: UnsafeRawBufferPointer(rebasing: bytes.prefix(size)), fds: fds, waitForRoom: true)
        }
        streamOffset += frameHeader.frameLength
        frameIndex += 1
        if frameIndex % 7 == 0 {
            writer.submit(.acknowledgement(AcknowledgementRecord(
                time: TraceClock.monotonicNanoseconds(), channel: 1, direction: .bToA, frameIndex: frameIndex,
                streamOffset: streamOffset, count: 2)), waitForRoom: true)
        }
    }
    do {
        try writer.flush()
    } catch {
        print("TraceWriterStress: \(error)")
        exit(1)
    }
    usleep(500)  // keep the file small: the test needs continuous writes, not volume
    if !announced {
        announced = true
        let line = "ready\n"
        _ = line.withCString { write(STDOUT_FILENO, $0, strlen($0)) }
    }
}
