import IPCWire
import TestSupport
import Testing

/// Feeds `bytes` in pieces of the given sizes (the rest in one last piece); returns the verdict and how
/// many bytes had been fed when it came.
private func classify(_ bytes: [UInt8], pieces: [Int] = []) -> (verdict: LibIPCStreamClassifier.Verdict?, after: Int?) {
    var classifier = LibIPCStreamClassifier()
    var offset = 0
    var decidedAfter: Int?
    for size in pieces + [bytes.count] where offset < bytes.count {
        let end = min(bytes.count, offset + size)
        let verdict = classifier.feed(Array(bytes[offset..<end]))
        offset = end
        if verdict != nil, decidedAfter == nil { decidedAfter = offset }
    }
    return (classifier.verdict, decidedAfter)
}

/// Feeds one byte at a time; returns the verdict and after how many bytes it came.
private func classifyBytewise(_ bytes: [UInt8]) -> (verdict: LibIPCStreamClassifier.Verdict?, after: Int?) {
    classify(bytes, pieces: Array(repeating: 1, count: bytes.count))
}

/// A real endpoint message: envelope (magic, id) and a few parameters.
private func endpointMessage(fdCount: Int = 0, parameters: [UInt8] = Array("hello".utf8)) -> [UInt8] {
    var encoder = IPCEncoder()
    encoder.envelope(magic: EndpointMagic.of("WebContentServer"), id: 7)
    encoder.bytes(parameters)
    return FrameEncoder.payloadFrame(encoder.bytes, fdCount: fdCount)
}

@Suite struct LibIPCStreamClassifierTests {
    // MARK: LibIPC

    /// However the first frames are cut into reads, the verdict is the same and comes exactly when the
    /// 12th byte (the whole first header) has arrived — never earlier, never needing more.
    static let libIPCStreams: [(String, [UInt8])] = {
        let overFDs: [UInt8] = FrameHeader(type: .payload, payloadSize: 8, fdCount: 129).bytes + [UInt8](repeating: 0, count: 8)
        let overSize: [UInt8] = FrameHeader(type: .payload, payloadSize: 64 * 1024 * 1024 + 1, fdCount: 0).bytes
        let messages: [UInt8] = endpointMessage() + endpointMessage(fdCount: 2)
        let withFDs: [UInt8] = endpointMessage(fdCount: 3) + FrameEncoder.acknowledgementFrame(count: 1)
        let ackFirst: [UInt8] = FrameEncoder.acknowledgementFrame(count: 3) + endpointMessage()
        return [
            ("message", messages),
            ("message with fds", withFDs),
            ("smallest message", FrameEncoder.payloadFrame([1, 0, 0, 0, 2, 0, 0, 0])),
            ("message port record", FrameEncoder.payloadFrame([0, 0, 0, 0, 0, 0, 0, 0])),
            ("ack first", ackFirst),
            ("ack of the most fds a receiver holds", FrameEncoder.acknowledgementFrame(count: 512)),
            ("over the fd limit", overFDs),
            ("over the payload limit", overSize),
        ]
    }()

    @Test(arguments: libIPCStreams)
    func libIPCFramesAreLibIPCWhereverTheyAreSplit(_ name: String, _ stream: [UInt8]) {
        let whole = classify(stream)
        #expect(whole.verdict?.isLibIPC == true, "\(name): \(String(describing: whole.verdict))")
        #expect(classifyBytewise(stream).verdict == whole.verdict, "\(name)")
        #expect(classifyBytewise(stream).after == FrameHeader.size, "\(name)")
        for split in 1..<stream.count {
            let cut = classify(stream, pieces: [split])
            #expect(cut.verdict == whole.verdict, "\(name) split at \(split)")
            // Decided by the read that completes the header: the first when it holds 12 bytes, else the rest.
            #expect(cut.after == (split >= FrameHeader.size ? split : stream.count), "\(name) split at \(split)")
        }
    }

    @Test func theReasonNamesTheHeaderAndABrokenLimit() {
        #expect(classify(endpointMessage(fdCount: 2)).verdict?.reason == "first frame header: payload of 13 bytes, 2 fds")
        #expect(classify(FrameEncoder.acknowledgementFrame(count: 3)).verdict?.reason == "first frame acknowledges 3 fds")
        let overFDs = FrameHeader(type: .payload, payloadSize: 8, fdCount: 129).bytes
        #expect(classify(overFDs).verdict?.reason.hasSuffix("over MAX_MESSAGE_FD_COUNT") == true)
    }

    // MARK: not LibIPC

    /// asyncio's self-pipe: one zero byte per wake-up. Undecided until the payload size is known (8 bytes),
    /// then a 0-byte payload frame is no LibIPC message.
    @Test func singleZeroBytesAreNotLibIPC() {
        let zeros = [UInt8](repeating: 0, count: 102 * 12)
        let bytewise = classifyBytewise(zeros)
        #expect(bytewise.verdict?.isLibIPC == false)
        #expect(bytewise.after == 8)
        #expect(bytewise.verdict?.reason == "payload frame of 0 bytes, shorter than any LibIPC message (8)")
        #expect(classify(Array(zeros.prefix(7))).verdict == nil, "7 zero bytes allow both")
    }

    @Test(arguments: 0..<8)
    func aPayloadFrameShorterThanAnyMessageIsNotLibIPC(_ size: Int) {
        let frame = FrameEncoder.payloadFrame([UInt8](repeating: 0xAB, count: size), fdCount: 1)
        let result = classifyBytewise(frame + endpointMessage())
        #expect(result.verdict?.isLibIPC == false)
        #expect(result.after == 8, "decided by payload_size alone")
    }

    /// Python's multiprocessing.Connection: a 4-byte big-endian length, then a pickle (protocol 4+ starts
    /// 0x80 0x04/0x05 0x95). Any length from 1 to 2^24−1 puts a non-zero byte in the "padding".
    @Test(arguments: [1, 42, 255, 256, 4096, 65_535, 65_536, 1 << 20, (1 << 24) - 1])
    func lengthPrefixedPicklesAreNotLibIPC(_ length: Int) {
        let prefix: [UInt8] = [UInt8(length >> 24 & 0xFF), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
        let pickle: [UInt8] = [0x80, 0x05, 0x95, 0x0B, 0, 0, 0, 0, 0, 0, 0, 0x7D, 0x94, 0x2E]
        let result = classifyBytewise(prefix + pickle)
        #expect(result.verdict?.isLibIPC == false, "length \(length)")
        #expect(result.after ?? 99 <= 4, "length \(length): the padding decides")
        #expect(classifyBytewise(pickle).after == 1, "a bare pickle's first byte is no frame type")
    }

    /// A zero-length message (4 zero bytes) followed by a pickle's length and bytes: the header reads as
    /// a payload over 64 MiB whose fd count is the pickle's first bytes — two limits, not LibIPC.
    @Test func anEmptyMessageThenAPickleIsNotLibIPC() {
        let stream: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0x10, 0x80, 0x05, 0x95, 0x0B] + [UInt8](repeating: 0x41, count: 12)
        let result = classify(stream)
        #expect(result.verdict?.isLibIPC == false)
        #expect(result.verdict?.reason.contains("both over LibIPC's limits") == true)
    }

    @Test(arguments: ["GET / HTTP/1.1\r\n", "AUTH EXTERNAL 30\r\n", "{\"jsonrpc\":\"2.0\"}", "\u{1B}[?1049h", "\u{01}x"])
    func textIsNotLibIPC(_ text: String) {
        let result = classifyBytewise(Array(text.utf8))
        #expect(result.verdict?.isLibIPC == false, "\(text)")
        #expect(result.after ?? 99 <= 2, "\(text): decided by its first bytes")
    }

    @Test func implausibleAcknowledgementsAreNotLibIPC() {
        #expect(classify(FrameEncoder.acknowledgementFrame(count: 0)).verdict?.isLibIPC == false)
        #expect(classify(FrameEncoder.acknowledgementFrame(count: 513)).verdict?.isLibIPC == false)
        let withPayload = FrameHeader(type: .fdAcknowledgement, payloadSize: 4, fdCount: 1).bytes + [0, 0, 0, 0]
        #expect(classifyBytewise(withPayload).verdict?.isLibIPC == false)
        #expect(classifyBytewise(withPayload).after == 8)
    }

    @Test func aNonZeroPaddingByteIsNotLibIPC() {
        for index in 1...3 {
            var header = FrameHeader(type: .payload, payloadSize: 8, fdCount: 0).bytes
            header[index] = 1
            let result = classifyBytewise(header)
            #expect(result.verdict?.isLibIPC == false)
            #expect(result.after == index + 1)
        }
    }

    // MARK: bounds

    /// Random streams: the verdict never changes once given, never needs more than one header, and the
    /// classifier keeps at most 12 bytes however much it is fed.
    @Test func verdictsAreFinalAndMemoryIsBounded() {
        var random = SplitMix64(seed: 14)
        for round in 0..<2_000 {
            let length = Int(random.next() % 64)
            var stream = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            // Bias towards plausible headers so the later checks are reached too.
            for index in stream.indices where index < 12 && random.next() % 2 == 0 { stream[index] = index == 0 ? UInt8(random.next() % 2) : 0 }
            var classifier = LibIPCStreamClassifier()
            var first: LibIPCStreamClassifier.Verdict?
            var offset = 0
            while offset < stream.count {
                let size = 1 + Int(random.next() % 16)
                let piece = Array(stream[offset..<min(stream.count, offset + size)])
                let verdict = classifier.feed(piece)
                if first == nil { first = verdict } else { #expect(verdict == first, "round \(round)") }
                offset += piece.count
                #expect(classifier.examined.count <= FrameHeader.size)
            }
            if stream.count >= FrameHeader.size { #expect(classifier.verdict != nil, "round \(round): \(stream)") }
        }
        var classifier = LibIPCStreamClassifier()
        classifier.feed([UInt8](repeating: 0x55, count: 1 << 20))
        #expect(classifier.examined.count == FrameHeader.size)
    }
}
