import IPCTransport
import Synchronization

/// The demo's lines to stderr, each written whole (short writes and EINTR retried).
enum StandardError {
    /// Lines that could not be written (stderr closed, or a full disk behind a redirect). There is nowhere
    /// else to report that, and the demo's outcome does not depend on its log, so they are only counted.
    static let unwrittenLines = Atomic<UInt64>(0)

    static func write(_ text: String) {
        do {
            try Descriptor.writeAll(2, Array(text.utf8))
        } catch {
            unwrittenLines.add(1, ordering: .relaxed)
        }
    }
}
