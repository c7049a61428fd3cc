import Glibc
import IPCWire

/// Reads a trace file through a read-only mmap, also while it is still being written: ``refresh()``
/// maps what was appended since. An incomplete record at the end is a tail in progress, never an error.
public struct TraceReader: Sendable {
    public let path: String
    public let version: TraceFormatVersion
    private let file: OpenFile
    private var mapping: MappedFile

    /// Opens and maps the file and checks its 12-byte file header.
    public init(path: String) throws(TraceFileError) {
        try self.init(path: path, checkingHeader: true)
    }

    init(path: String, checkingHeader: Bool) throws(TraceFileError) {
        self.path = path
        file = try OpenFile(path: path)
        let size = try file.size()
        mapping = try MappedFile(fd: file.fd, count: size, path: path)
        version = checkingHeader ? try Self.checkFileHeader(mapping.bytes, path: path) : TraceFileLayout.currentVersion
    }

    /// Checks trace bytes held in memory as ``validate()`` checks a file (for fuzzing and for tools that
    /// already hold the bytes). Throws when the bytes do not start as a trace of a readable version.
    public static func validate(bytes: UnsafeRawBufferPointer, path: String) throws(TraceFileError) -> CheckReport {
        let version = try checkFileHeader(bytes, path: path)
        return TraceValidator.validate(bytes, path: path, version: version)
    }

    private static func checkFileHeader(_ bytes: UnsafeRawBufferPointer, path: String) throws(TraceFileError) -> TraceFormatVersion {
        let magic = TraceFileLayout.magic
        let present = min(bytes.count, magic.count)
        guard bytes.prefix(present).elementsEqual(magic.prefix(present)) else { throw .notATrace(path: path) }
        guard bytes.count >= TraceFileLayout.fileHeaderSize else {
            throw .truncatedFileHeader(path: path, size: bytes.count)
        }
        let version = TraceFormatVersion(
            major: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt16.self)),
            minor: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 10, as: UInt16.self)))
        guard version.major == TraceFileLayout.currentVersion.major else {
            throw .unsupportedVersion(path: path, version: version)
        }
        return version
    }

    /// The current mapping (for the indexes of this module; it stays valid while anyone holds it).
    var mappedFile: MappedFile { mapping }

    /// Device, inode, size and modification time of the open file (what a stored index is keyed by).
    func fileStatus() throws(TraceFileError) -> stat { try file.status() }

    /// Bytes currently mapped (the file size at open or at the last refresh).
    public var size: Int { mapping.count }

    /// Maps the file again if it grew. Returns true when there are new bytes.
    @discardableResult
    public mutating func refresh() throws(TraceFileError) -> Bool {
        let size = try file.size()
        guard size != mapping.count else { return false }
        guard size > mapping.count else { throw .fileShrank(path: path, from: mapping.count, to: size) }
        mapping = try MappedFile(fd: file.fd, count: size, path: path)
        return true
    }

    // MARK: records

    /// The header record, when the first record is a complete, decodable header.
    public var header: TraceHeader? {
        if case .header(let header)? = record(at: TraceFileLayout.firstRecordOffset) { return header }
        return nil
    }

    /// The records from `offset` on, in file order, decoded one at a time. Damaged regions are skipped
    /// (see ``validate()`` for what was skipped), as are records of kinds this version does not know.
    public func records(from offset: Int = TraceFileLayout.firstRecordOffset) -> RecordSequence {
        RecordSequence(mapping: mapping, start: offset)
    }

    /// The record starting at `offset` (from a ``TraceIndex``); nil unless a good record of a known kind
    /// starts exactly there.
    public func record(at offset: Int) -> TraceRecord? {
        guard offset >= TraceFileLayout.firstRecordOffset, offset < mapping.count,
              case .valid(let frame) = RecordScanner.checkFrame(in: mapping.bytes, at: offset)
        else { return nil }
        return try? RecordBodyDecoder.decode(kind: frame.kind, body: Self.body(of: frame, in: mapping.bytes))
    }

    /// The payload frame at `offset` without copying its captured bytes or fds (``PayloadFrameFields``): for
    /// passes over every frame that need neither. nil exactly when ``record(at:)`` would not return a
    /// payload frame there.
    public func payloadFrameFields(at offset: Int) -> PayloadFrameFields? {
        guard offset >= TraceFileLayout.firstRecordOffset, offset < mapping.count,
              case .valid(let frame) = RecordScanner.checkFrame(in: mapping.bytes, at: offset),
              frame.kind == TraceRecordKind.payloadFrame.rawValue
        else { return nil }
        return try? RecordBodyDecoder.payloadFrameFields(body: Self.body(of: frame, in: mapping.bytes))
    }

    static func body(of frame: RecordFrame, in data: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: data[frame.bodyOffset..<frame.endOffset])
    }

    // MARK: index and validation

    /// Indexes every good record in one pass.
    public func buildIndex() -> TraceIndex {
        var index = TraceIndex()
        updateIndex(&index)
        return index
    }

    /// Extends `index` with the records appended since it was built (after ``refresh()``).
    public func updateIndex(_ index: inout TraceIndex) {
        index.extend(with: mapping.bytes)
    }

    /// Checks every record: marker, length, checksum, body, header placement.
    public func validate() -> CheckReport {
        withExtendedLifetime(mapping) {
            var report = TraceValidator.validate(mapping.bytes, path: path, version: version)
            report.shrankWhileReading = mapping.shrankWhileMapped
            return report
        }
    }

    /// Whether another process truncated the file below what is mapped while it was read: what was read
    /// past the new end came back as zeros (not a crash). ``refresh()`` then throws ``TraceFileError/fileShrank``.
    public var shrankWhileReading: Bool { mapping.shrankWhileMapped }
}

/// The records of a ``TraceReader`` with their file offsets: `for (offset, record) in reader.records()`.
public struct RecordSequence: Sequence {
    fileprivate let mapping: MappedFile
    fileprivate let start: Int

    public func makeIterator() -> Iterator {
        Iterator(mapping: mapping, scanner: RecordScanner(data: mapping.bytes, position: Swift.max(start, TraceFileLayout.firstRecordOffset)))
    }

    public struct Iterator: IteratorProtocol {
        // Keeps the mapping alive for as long as the iterator exists.
        private let mapping: MappedFile
        private var scanner: RecordScanner

        fileprivate init(mapping: MappedFile, scanner: RecordScanner) {
            self.mapping = mapping
            self.scanner = scanner
        }

        public mutating func next() -> (offset: Int, record: TraceRecord)? {
            while let event = scanner.next() {
                guard case .record(let frame) = event else { continue }
                let body = TraceReader.body(of: frame, in: scanner.data)
                if let record = try? RecordBodyDecoder.decode(kind: frame.kind, body: body) {
                    return (frame.offset, record)
                }
            }
            return nil
        }
    }
}
