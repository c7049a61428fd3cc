import Glibc

// The one funnel for system calls that can be interrupted: every caller that retries EINTR goes through
// these, so "retry EINTR, report anything else with its errno" is written once.

/// Runs a call that returns -1 and sets errno on failure, retrying on EINTR.
@inlinable @inline(__always)
public func retryingOnInterrupt<T: BinaryInteger>(_ operation: String, _ call: () -> T) throws(SystemError) -> T {
    while true {
        let result = call()
        if result != -1 { return result }
        let error = SystemError.current(operation)
        if error.errno != EINTR { throw error }
    }
}

/// A write that stopped before its last byte: why, and how many bytes had been written (the caller may
/// need to cut a partial record, or tell how far it got).
public struct IncompleteWrite: Error, Equatable, Sendable {
    public var error: SystemError
    public var written: Int

    public init(error: SystemError, written: Int) {
        self.error = error
        self.written = written
    }
}

/// Writes all of `bytes`: calls `write` with what is left and how much was written before it (an offset
/// for pwrite) until nothing is, retrying short writes and EINTR. `write` behaves like write(2): a count,
/// or -1 with errno set. A call that writes nothing is reported as EIO rather than retried forever.
@inlinable
public func writeAll(
    _ bytes: UnsafeRawBufferPointer, _ operation: String,
    _ write: (_ rest: UnsafeRawBufferPointer, _ writtenBefore: Int) -> Int
) throws(IncompleteWrite) {
    var written = 0
    while written < bytes.count {
        let rest = UnsafeRawBufferPointer(rebasing: bytes[written...])
        let result: Int
        do throws(SystemError) {
            result = try retryingOnInterrupt(operation) { write(rest, written) }
        } catch {
            throw IncompleteWrite(error: error, written: written)
        }
        guard result > 0 else { throw IncompleteWrite(error: SystemError(errno: EIO, operation: operation), written: written) }
        written += result
    }
}

/// ``writeAll(_:_:_:)`` for callers that only need to know why it failed.
@inlinable
public func writeAll(
    _ bytes: UnsafeRawBufferPointer, _ operation: String, _ write: (_ rest: UnsafeRawBufferPointer) -> Int
) throws(SystemError) {
    do throws(IncompleteWrite) {
        try writeAll(bytes, operation) { rest, _ in write(rest) }
    } catch {
        throw error.error
    }
}
