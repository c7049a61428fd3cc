import Glibc

/// A growable byte buffer that records are encoded into: integers go in with `storeBytes`, no per-field
/// arrays. A class so the writer can hand whole buffers between the submitting side and its thread.
///
/// Not thread-safe. `@unchecked Sendable` because the writer moves a buffer between threads under its
/// lock and only ever lets one side touch it at a time.
final class ByteBuffer: @unchecked Sendable {
    // Unchecked exclusivity: every append reads and writes these, and the dynamic checks cost more than the
    // stores themselves on the recording hot path. Safe because a buffer is only touched by one thread at a
    // time and no method passes them inout to code that could reach the buffer again.
    @exclusivity(unchecked) private(set) var base: UnsafeMutableRawPointer?
    @exclusivity(unchecked) private(set) var count = 0
    @exclusivity(unchecked) private(set) var capacity = 0
    /// Records appended leave their CRC zero; ``fillRecordChecksums()`` computes them later. The writer's
    /// queue defers them so its thread checksums each batch just before `write`, not every relay thread
    /// as it submits (a tenth of the relay's time on 4 KiB frames).
    var defersChecksums = false

    init(capacity: Int = 0) {
        if capacity > 0 { grow(toAtLeast: capacity) }
    }

    deinit { free(base) }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    var array: [UInt8] { Array(bytes) }

    /// Drops the contents; keeps the memory unless it grew beyond `keepingAtMost` bytes.
    func removeAll(keepingAtMost limit: Int = .max) {
        count = 0
        if capacity > limit {
            free(base)
            base = nil
            capacity = 0
        }
    }

    /// Forgets everything after `newCount` (used to take back a record that did not fit).
    func truncate(to newCount: Int) {
        precondition(newCount >= 0 && newCount <= count)
        count = newCount
    }

    /// Makes room for `extra` more bytes.
    @inline(__always)
    func reserve(_ extra: Int) {
        if capacity - count < extra { grow(toAtLeast: count + extra) }
    }

    private func grow(toAtLeast needed: Int) {
        var newCapacity = Swift.max(capacity, 4096)
        while newCapacity < needed { newCapacity *= 2 }
        guard let grown = realloc(base, newCapacity) else { fatalError("out of memory growing a trace buffer") }
        base = grown
        capacity = newCapacity
    }

    /// Counts `byteCount` bytes written directly into reserved space (see ``reserve(_:)``) as appended.
    @inline(__always)
    func didAppend(_ byteCount: Int) {
        precondition(byteCount >= 0 && byteCount <= capacity - count)
        count += byteCount
    }

    /// The written region; valid until the next append.
    func pointer(at offset: Int) -> UnsafeMutableRawPointer {
        base.unsafelyUnwrapped + offset
    }

    // MARK: appending, little-endian

    @inline(__always)
    func append<T: FixedWidthInteger>(_ value: T) {
        let size = MemoryLayout<T>.size
        reserve(size)
        base.unsafelyUnwrapped.storeBytes(of: value.littleEndian, toByteOffset: count, as: T.self)
        count += size
    }

    @inline(__always)
    func append(_ value: Bool) { append(UInt8(value ? 1 : 0)) }

    func append(bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        reserve(bytes.count)
        (base.unsafelyUnwrapped + count).copyMemory(from: source, byteCount: bytes.count)
        count += bytes.count
    }

    /// A u32 length then the bytes.
    func appendBlob(_ bytes: UnsafeRawBufferPointer) {
        append(UInt32(truncatingIfNeeded: bytes.count))
        append(bytes: bytes)
    }

    func appendBlob(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { appendBlob($0) }
    }

    /// A u32 length then the UTF-8 bytes.
    func append(_ string: String) {
        var string = string
        string.withUTF8 { appendBlob(UnsafeRawBufferPointer($0)) }
    }

    /// Overwrites 4 bytes already written.
    func store(_ value: UInt32, at offset: Int) {
        precondition(offset >= 0 && offset + 4 <= count)
        base.unsafelyUnwrapped.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt32.self)
    }
}
