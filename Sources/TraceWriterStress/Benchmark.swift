import Glibc
import IPCWire
import TraceFormat

/// `TraceWriterStress --benchmark PATH`: rough writer and reader rates (not a test; numbers for humans).
enum Benchmark {
    static func run(path: String) throws {
        let header = TraceHeader.startingNow(ipcscopeVersion: "bench", commandLine: ["bench"], snapLength: 65536)
        let writer = try TraceWriter(path: path, header: header)
        let payload = [UInt8](repeating: 0x42, count: 65536)

        var start = TraceClock.monotonicNanoseconds()
        let acks = 2_000_000
        for i in 0..<acks {
            writer.submit(.acknowledgement(AcknowledgementRecord(
                time: UInt64(i), channel: 1, direction: .aToB, frameIndex: UInt64(i), streamOffset: 0, count: 1)),
                waitForRoom: true)
        }
        report("submit acknowledgement", count: acks, bytes: 0, since: start)

        for (size, count) in [(64, 1_000_000), (4096, 200_000), (65536, 20_000)] {
            start = TraceClock.monotonicNanoseconds()
            payload.withUnsafeBytes { raw in
                let slice = UnsafeRawBufferPointer(rebasing: raw.prefix(size))
                for i in 0..<count {
                    writer.submitPayloadFrame(
                        time: UInt64(i), channel: 1, direction: .bToA, frameIndex: UInt64(i), streamOffset: 0,
                        header: .payload(size: size, fdCount: 0), payload: slice, waitForRoom: true)
                }
            }
            report("submit \(size)-byte payload frame", count: count, bytes: size * count, since: start)
        }
        start = TraceClock.monotonicNanoseconds()
        try writer.close()
        report("close (drain)", count: 1, bytes: 0, since: start)

        let reader = try TraceReader(path: path)
        start = TraceClock.monotonicNanoseconds()
        let index = reader.buildIndex()
        report("build index", count: index.count, bytes: reader.size, since: start)
        start = TraceClock.monotonicNanoseconds()
        var decoded = 0
        for _ in reader.records() { decoded += 1 }
        report("decode all", count: decoded, bytes: reader.size, since: start)
        start = TraceClock.monotonicNanoseconds()
        let check = reader.validate()
        report("validate", count: check.recordCount, bytes: reader.size, since: start)
        print("crc32c hardware: \(CRC32C.usesHardware), file \(reader.size >> 20) MiB, intact \(check.isIntact)")
    }

    private static func report(_ what: String, count: Int, bytes: Int, since start: UInt64) {
        let seconds = Double(TraceClock.monotonicNanoseconds() - start) / 1e9
        let perRecord = seconds / Double(max(count, 1)) * 1e9
        let rate = bytes > 0 ? ", \(Int(Double(bytes) / seconds / 1e6)) MB/s" : ""
        print("\(what): \(count) in \(Int(seconds * 1000)) ms (\(Int(perRecord)) ns each\(rate))")
    }
}
