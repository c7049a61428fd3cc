import CSystemShims

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every record.
/// The SSE4.2 `crc32` instruction when the CPU has it (several GB/s); otherwise slicing-by-8 in Swift
/// (eight 256-entry tables, one 8-byte step per iteration, about 1.4 GB/s).
public enum CRC32C {
    /// The checksum of `bytes`, continuing from `crc` (the checksum of what came before; 0 to start).
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        guard let start = bytes.baseAddress, bytes.count > 0 else { return crc }
        if crc32cHardwareAvailable { return ~ipcs_crc32c_update(~crc, start, bytes.count) }
        return ~update(~crc, start, bytes.count)
    }

    /// The same checksum computed in Swift only (tests compare both paths).
    static func softwareChecksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        guard let start = bytes.baseAddress, bytes.count > 0 else { return crc }
        return ~update(~crc, start, bytes.count)
    }

    /// True when checksums use the CPU instruction.
    public static var usesHardware: Bool { crc32cHardwareAvailable }

    public static func checksum(_ bytes: [UInt8], continuing crc: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0, continuing: crc) }
    }

    /// The raw register update (no pre/post inversion).
    @inline(__always)
    static func update(_ crc: UInt32, _ start: UnsafeRawPointer, _ count: Int) -> UInt32 {
        var crc = crc
        var p = start
        var remaining = count
        crc32cTables.withUnsafeBufferPointer { t in
            while remaining >= 8 {
                let word = UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))
                let low = UInt32(truncatingIfNeeded: word) ^ crc
                let high = UInt32(truncatingIfNeeded: word >> 32)
                crc = t[7 &* 256 &+ Int(low & 0xFF)]
                    ^ t[6 &* 256 &+ Int((low >> 8) & 0xFF)]
                    ^ t[5 &* 256 &+ Int((low >> 16) & 0xFF)]
                    ^ t[4 &* 256 &+ Int(low >> 24)]
                    ^ t[3 &* 256 &+ Int(high & 0xFF)]
                    ^ t[2 &* 256 &+ Int((high >> 8) & 0xFF)]
                    ^ t[1 &* 256 &+ Int((high >> 16) & 0xFF)]
                    ^ t[Int(high >> 24)]
                p += 8
                remaining &-= 8
            }
            while remaining > 0 {
                crc = t[Int((crc ^ UInt32(p.load(as: UInt8.self))) & 0xFF)] ^ (crc >> 8)
                p += 1
                remaining &-= 1
            }
        }
        return crc
    }
}

private let crc32cHardwareAvailable = ipcs_crc32c_hardware_available() != 0

/// Table k maps a byte to its CRC contribution k bytes further on; built once.
private let crc32cTables: [UInt32] = {
    var tables = [UInt32](repeating: 0, count: 8 * 256)
    for byte in 0..<256 {
        var crc = UInt32(byte)
        for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        tables[byte] = crc
    }
    for table in 1..<8 {
        for byte in 0..<256 {
            let previous = tables[(table - 1) * 256 + byte]
            tables[table * 256 + byte] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
        }
    }
    return tables
}()

extension CRC32C {
    /// The checksum of the bytes between two points of one stream, from the stream's checksums up to those
    /// points: `checksum(data[a..<b]) == span(upTo: checksum(data[..<b]), from: checksum(data[..<a]), length: b - a)`.
    /// It costs O(log length) whatever the length, which lets a resync check overlapping candidate records
    /// in one pass over the file (RecordScanner).
    static func span(upTo end: UInt32, from start: UInt32, length: Int) -> UInt32 {
        end ^ advance(start, overZeroBytes: length)
    }

    /// The raw register after `count` zero bytes: a linear map, applied as its powers of two.
    static func advance(_ register: UInt32, overZeroBytes count: Int) -> UInt32 {
        var register = register
        var remaining = count
        var power = 0
        while remaining > 0 && register != 0 && power < zeroOperators.count {
            if remaining & 1 != 0 { register = apply(zeroOperators[power], to: register) }
            remaining >>= 1
            power += 1
        }
        return register
    }

    /// A 32×32 matrix over GF(2) given by its columns, times a vector.
    @inline(__always)
    private static func apply(_ columns: [UInt32], to vector: UInt32) -> UInt32 {
        var result: UInt32 = 0
        var bits = vector
        var index = 0
        while bits != 0 {
            if bits & 1 != 0 { result ^= columns[index] }
            bits >>= 1
            index += 1
        }
        return result
    }

    /// zeroOperators[k] advances the register over 2^k zero bytes (k < 48: more than any file).
    private static let zeroOperators: [[UInt32]] = {
        // One zero byte: eight shifts of the reflected register, each column the image of one bit.
        var oneByte = [UInt32](repeating: 0, count: 32)
        for bit in 0..<32 {
            var register = UInt32(1) << UInt32(bit)
            for _ in 0..<8 { register = (register & 1) != 0 ? (register >> 1) ^ 0x82F6_3B78 : register >> 1 }
            oneByte[bit] = register
        }
        var operators = [oneByte]
        for _ in 1..<48 {
            let previous = operators[operators.count - 1]
            operators.append(previous.map { apply(previous, to: $0) })
        }
        return operators
    }()
}
