/// Where a scan of a growing file stopped, so the next one resumes there: after the last good record, at
/// the start of an incomplete tail (it may complete), or after damage with nothing good after it yet
/// (resync first). Shared by ``TraceIndex`` and ``EventIndex``.
struct ResumableScan: Sendable, Equatable {
    /// Where the next scan starts.
    var resumeOffset = TraceFileLayout.firstRecordOffset
    /// Whether it must first look for a good record after damage.
    var resyncFirst = false
    /// Length of an incomplete record at the end of what was scanned (0 when the last record is complete).
    var truncatedTailBytes = 0
    /// Damaged regions skipped so far.
    var corruptionCount = 0

    /// Scans `data` from where the last scan stopped, handing each good record and each damaged region to
    /// the closures. Stops at the end of `data` or, when `limit` is given, after the first event that ends
    /// at or past it (so a caller can index a file in chunks). Returns whether it reached the end of `data`.
    @discardableResult
    mutating func scan(
        _ data: UnsafeRawBufferPointer, limit: Int = .max,
        record: (RecordFrame) -> Void, damage: (_ offset: Int, _ reason: CorruptionReason, _ resumedAt: Int?) -> Void = { _, _, _ in }
    ) -> Bool {
        guard resumeOffset < data.count else { return true }
        if resyncFirst {
            switch RecordScanner.findResync(in: data, after: resumeOffset) {
            case .valid(let offset), .incomplete(let offset): resumeOffset = offset
            case .none: return true
            }
            resyncFirst = false
        }
        var scanner = RecordScanner(data: data, position: resumeOffset)
        truncatedTailBytes = 0
        while let event = scanner.next() {
            switch event {
            case .record(let frame):
                record(frame)
                resumeOffset = frame.endOffset
            case .corruption(let offset, let reason, let resumeAt):
                corruptionCount += 1
                damage(offset, reason, resumeAt)
                if let resumeAt {
                    resumeOffset = resumeAt
                } else {
                    // Nothing good follows yet; once the file grows, look again after the damage.
                    resumeOffset = offset
                    resyncFirst = true
                }
            case .truncatedTail(let offset, let length):
                resumeOffset = offset
                truncatedTailBytes = length
            }
            if resumeOffset >= limit && resumeOffset < data.count && !resyncFirst { return false }
        }
        return true
    }
}
