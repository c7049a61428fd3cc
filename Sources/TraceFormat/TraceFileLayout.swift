/// Fixed numbers of the trace file format (docs/trace-format.md §2–§3).
public enum TraceFileLayout {
    /// The file starts with these 8 bytes.
    public static let magic: [UInt8] = Array("IPCTRACE".utf8)
    /// Magic (8) + major (u16) + minor (u16).
    public static let fileHeaderSize = 12
    /// Offset of the first record, the header record.
    public static let firstRecordOffset = fileHeaderSize
    /// Starts every record. An unlikely value, so that a reader can find record starts again after damage.
    public static let syncMarker: UInt32 = 0xA7C3_1FE9
    /// Marker (u32) + body length (u32) + CRC32C (u32) + kind (u8).
    public static let recordHeaderSize = 13
    /// Largest body a writer produces and a reader accepts (80 MiB): more than the largest LibIPC payload
    /// (64 MiB) plus its metadata, small enough that a damaged length never makes a reader allocate much.
    public static let maxBodyLength = 80 * 1024 * 1024
    /// The version this library writes.
    public static let currentVersion = TraceFormatVersion(major: 1, minor: 1)

    /// The 12 bytes a trace file starts with.
    public static func fileHeaderBytes(version: TraceFormatVersion = currentVersion) -> [UInt8] {
        var bytes = magic
        bytes.append(UInt8(truncatingIfNeeded: version.major))
        bytes.append(UInt8(truncatingIfNeeded: version.major >> 8))
        bytes.append(UInt8(truncatingIfNeeded: version.minor))
        bytes.append(UInt8(truncatingIfNeeded: version.minor >> 8))
        return bytes
    }
}

/// A format version. Readers accept any minor of the major they know: minors only append fields and kinds.
public struct TraceFormatVersion: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var major: UInt16
    public var minor: UInt16

    public init(major: UInt16, minor: UInt16) {
        self.major = major
        self.minor = minor
    }

    public var description: String { "\(major).\(minor)" }
}
