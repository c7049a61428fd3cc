import IPCWire

/// Drives a ``ChannelParser`` with the input cut into chunks by control bytes, and checks the
/// invariants a hostile peer must never break: no trap, bounded memory, consistent accounting.
enum FrameFuzzing {
    static let captureLimit = 512
    static let maxStalledEntries = 16
    static let retainedBytesBound = FrameStreamParser.retainedBytesBound(
        .init(captureLimit: captureLimit, maxStalledEntries: maxStalledEntries))

    static func run(_ data: UnsafeRawBufferPointer) {
        var channel = ChannelParser(configuration: .init(captureLimit: captureLimit, maxStalledEntries: maxStalledEntries))
        var fed: UInt64 = 0
        var index = 0
        while index < data.count {
            // Control byte: bits 0-5 chunk length / 8, bit 6 direction, bit 7 one fd with the chunk.
            let control = data[index]
            index += 1
            let length = min(Int(control & 0x3F) * 8 + 1, data.count - index)
            guard length > 0 else { break }
            let direction: Direction = control & 0x40 == 0 ? .aToB : .bToA
            let chunk = UnsafeRawBufferPointer(rebasing: data[index..<(index + length)])
            var kinds: [MessageKind?] = []
            channel.feed(direction, chunk, fdCount: Int(control >> 7)) { event in
                if case .payload(let frame) = event {
                    precondition(frame.capturedPayload.count <= captureLimit)
                    precondition(frame.capturedPayload.count <= frame.payloadLength)
                    // No schema here: the payload's first byte picks a kind, so the pairing ledger the
                    // relay uses sees every order of requests and responses.
                    kinds.append(frame.capturedPayload.first.map { MessageKind.allCases[Int($0) % 3] })
                }
            }
            for kind in kinds {
                let before = channel.syncPairing
                let outcome = channel.syncPairing.record(kind, direction: direction)
                if case .answered(let ordinal) = outcome {
                    let answered = direction == .aToB ? before.bToA : before.aToB
                    precondition(ordinal == answered.answered && answered.pending > 0)
                }
            }
            fed += UInt64(length)
            index += length
            for parser in [channel.aToB, channel.bToA] {
                precondition(parser.retainedBytes <= retainedBytesBound, "\(parser.retainedBytes) bytes retained")
                precondition(parser.unprocessedBytes <= parser.streamOffset)
            }
        }
        precondition(channel.aToB.streamOffset + channel.bToA.streamOffset == fed)
    }
}
