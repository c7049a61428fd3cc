import Testing
@testable import IPCWire

@Suite struct FrameHeaderTests {
    @Test func encodesTheWorkedRequestHeader() {
        // docs/protocol.md §3.3: is_supported_protocol("http"), 16 payload bytes, no fds.
        #expect(FrameHeader.payload(size: 16, fdCount: 0).bytes == [0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0])
    }

    @Test func encodesTheWorkedAcknowledgement() {
        #expect(FrameEncoder.acknowledgementFrame(count: 1) == [1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0])
    }

    @Test func decodesIgnoringPadding() {
        let header = FrameHeader([0x00, 0xAA, 0xBB, 0xCC, 0x09, 0, 0, 0, 0x02, 0, 0, 0])
        #expect(header == FrameHeader(type: .payload, payloadSize: 9, fdCount: 2))
        #expect(FrameHeader([0, 0, 0]) == nil)
    }

    @Test func frameLengthDoesNotOverflow() {
        let header = FrameHeader(rawType: 0, payloadSize: .max, fdCount: 0)
        #expect(header.frameLength == UInt64(UInt32.max) + 12)
    }
}

@Suite struct EndpointMagicTests {
    @Test(arguments: [
        ("RequestServer", UInt32(1_270_977_860)),
        ("WebContentServer", UInt32(4_289_017_466)),
        ("WebContentClient", UInt32(2_565_717_604)),
        ("RequestClient", UInt32(1_502_652_576)),
        ("VideoPresentationClient", UInt32(0x21F6_B3E0)),
        ("UIProcessServer", UInt32(0x66D2_03DD)),
        ("CompositorWebContentServer", UInt32(0x9A03_515F)),
        ("WebDriverClient", UInt32(0xFF5A_FFEB)),
        ("WasmCompilerServer", UInt32(0xE0FF_41DD)),
        ("ImageDecoderClient", UInt32(0x385A_BEA6)),
    ])
    func matchesLadybirdMagic(name: String, magic: UInt32) {
        #expect(EndpointMagic.of(name) == magic)
    }

    @Test func envelopeOfTheWorkedFrame() {
        let payload: [UInt8] = [0x44, 0x95, 0xC1, 0x4B, 0x0A, 0, 0, 0, 4, 0, 0, 0, 0x68, 0x74, 0x74, 0x70]
        let envelope = MessageEnvelope(payload: payload)
        #expect(envelope == MessageEnvelope(magic: EndpointMagic.of("RequestServer"), messageID: 10))
        var rebuilt: [UInt8] = []
        envelope?.append(to: &rebuilt)
        #expect(rebuilt == Array(payload.prefix(8)))
    }
}
