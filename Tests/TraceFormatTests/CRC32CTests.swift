import TestSupport
import Testing
@testable import TraceFormat

@Suite struct CRC32CTests {
    @Test func matchesTheStandardCheckValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    }

    @Test func matchesTheZeroVector() {
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
    }

    @Test func matchesTheOnesVector() {
        // RFC 3720 B.4: 32 bytes of 0xFF.
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
    }

    @Test func continuesAcrossPieces() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let whole = CRC32C.checksum(bytes)
        for split in [0, 1, 7, 8, 9, 500, 999, 1000] {
            let first = CRC32C.checksum(Array(bytes[..<split]))
            #expect(CRC32C.checksum(Array(bytes[split...]), continuing: first) == whole)
        }
    }

    @Test func bothPathsAgreeWithBitwise() {
        for length in 0..<64 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 151 &+ length) }
            var crc: UInt32 = 0xFFFF_FFFF
            for byte in bytes {
                crc ^= UInt32(byte)
                for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
            }
            #expect(CRC32C.checksum(bytes) == ~crc)
            #expect(bytes.withUnsafeBytes { CRC32C.softwareChecksum($0) } == ~crc)
        }
    }
}

@Suite struct CRC32CPathTests {
    @Test func hardwareAndSoftwarePathsAgree() {
        var generator = SplitMix64(seed: 99)
        // Around the three-stream chunk (3 × 4096 bytes) of the hardware path too.
        for length in [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 4097, 12_287, 12_288, 12_289, 24_576 + 8, 65_536 + 3, 1 << 20] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            bytes.withUnsafeBytes { raw in
                #expect(CRC32C.checksum(raw) == CRC32C.softwareChecksum(raw), "length \(length)")
                // Unaligned starts too.
                if raw.count > 3 {
                    let shifted = UnsafeRawBufferPointer(rebasing: raw[3...])
                    #expect(CRC32C.checksum(shifted, continuing: 0x1234) == CRC32C.softwareChecksum(shifted, continuing: 0x1234))
                }
            }
        }
        #expect([UInt8]("123456789".utf8).withUnsafeBytes { CRC32C.softwareChecksum($0) } == 0xE306_9283)
    }

    @Test func aSpansChecksumFollowsFromTheChecksumsAtItsEnds() {
        var random = SplitMix64(seed: 32)
        let data = (0..<70_000).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        data.withUnsafeBytes { bytes in
            for _ in 0..<300 {
                let a = Int(random.next() % UInt64(data.count))
                let b = a + Int(random.next() % UInt64(data.count - a + 1))
                let upToA = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[..<a]))
                let upToB = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[..<b]))
                let span = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[a..<b]))
                #expect(CRC32C.span(upTo: upToB, from: upToA, length: b - a) == span, "a \(a) b \(b)")
            }
        }
    }
}
