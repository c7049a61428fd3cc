import Foundation
import IPCWire
import TestSupport
import Testing
import TraceFormat

/// `show` on a trace longer than its first chunks: it indexes, analyses and prints chunk by chunk, and
/// still prints every event once, in time order across the chunk boundaries, although the two directions'
/// batches interleave out of time order in the file.
@Suite struct ShowStreamingTests {
    @Test func aLongTraceIsPrintedWholeAndInTimeOrderAcrossChunks() throws {
        let path = try ConstructedTrace.write(name: "long.ipctrace") { writer in
            // Batches of 8 frames per direction; each B→A batch is written after the A→B batch that
            // started later, as two relay threads hand theirs over (every batch goes back in time). A sends
            // sync requests; B's batch k answers A's batch k − 1 (510 ns later).
            var index: [UInt64] = [0, 0]
            for batch in 0..<2_000 {
                for direction in [Direction.aToB, .bToA] {
                    for step in 0..<8 {
                        let time = UInt64(batch) * 1000 + (direction == .aToB ? 500 : 0) + UInt64(step) * 10
                        let message = direction == .aToB ? "TestServer::compute" : batch == 0 ? "TestServer::notify" : "TestServer::ComputeResponse"
                        let record = ConstructedTrace.frame(time, channel: 1, direction, index: index[Int(direction.rawValue)], message)
                        index[Int(direction.rawValue)] += 1
                        _ = writer.submit(record, waitForRoom: true)
                    }
                }
            }
        }
        let records = try TraceReader(path: path).records().map(\.record)
        #expect(records.count > 32_000)
        let result = try ShowCommandTests.show([path])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = ShowCommandTests.summaryLines(result.stdout)
        #expect(lines.count == records.count - 1)
        let numbers = lines.compactMap { Int($0.prefix(6).trimmingCharacters(in: .whitespaces)) }
        #expect(numbers == Array(1...(records.count - 1)))
        let times = lines.compactMap { Double($0.dropFirst(7).prefix(11).trimmingCharacters(in: .whitespaces)) }
        #expect(times.count == lines.count && zip(times, times.dropFirst()).allSatisfy { $0 <= $1 })
        // Every response has its latency. A request printed before the chunk holding its response was read
        // says just SYNC: only at the few chunk boundaries. The last batch's requests have no response.
        #expect(lines.count { $0.hasSuffix("RESP 0.0ms") } == 8 * 1999)
        #expect(lines.count { $0.hasSuffix("SYNC (no response)") } == 8)
        let bare = lines.count { $0.hasSuffix("SYNC") }
        #expect(bare <= 8 * 6, "\(bare)")
        #expect(lines.count { $0.hasSuffix("SYNC 0.0ms") } == 8 * 1999 - bare)
    }
}
