import IPCWire

/// Body layouts of every record kind (docs/trace-format.md §4). Fields are only ever appended.
extension ByteBuffer {
    /// Appends `record` framed. Payload captures longer than `snapLength` are cut to it.
    /// Returns the record's size, or nil when it is too large (nothing appended).
    func appendRecord(_ record: TraceRecord, snapLength: Int = .max) -> Int? {
        switch record {
        case .header(let header):
            return appendRecord(kind: TraceRecordKind.header.rawValue) { $0.appendHeaderBody(header) }
        case .channelOpened(let r):
            return appendRecord(kind: TraceRecordKind.channelOpened.rawValue) { $0.appendChannelOpenedBody(r) }
        case .payloadFrame(let r):
            return r.capturedPayload.withUnsafeBytes { payload in
                appendPayloadFrameRecord(
                    time: r.time, channel: r.channel, direction: r.direction, frameIndex: r.frameIndex,
                    streamOffset: r.streamOffset, header: r.header, payload: payload,
                    payloadTail: UnsafeRawBufferPointer(start: nil, count: 0), snapLength: snapLength, fds: r.fds)
            }
        case .acknowledgement(let r):
            return appendRecord(kind: TraceRecordKind.acknowledgement.rawValue) { b in
                b.append(r.time); b.append(r.channel); b.append(r.direction.rawValue)
                b.append(r.frameIndex); b.append(r.streamOffset); b.append(r.count)
            }
        case .eof(let r):
            return appendRecord(kind: TraceRecordKind.eof.rawValue) { b in
                b.append(r.time); b.append(r.channel); b.append(r.direction.rawValue)
                b.append(r.kind.rawValue); b.append(r.errorNumber)
                b.append(r.likelyCause != nil); b.append(r.likelyCause ?? "")
                b.append(r.likelyCauseFrameIndex != nil); b.append(r.likelyCauseFrameIndex ?? 0)
            }
        case .queueSample(let r):
            return appendRecord(kind: TraceRecordKind.queueSample.rawValue) { b in
                b.append(r.time); b.append(r.channel); b.append(r.direction.rawValue)
                b.append(r.proxyBufferedBytes); b.append(r.receiverUnreadBytes)
                b.append(UInt8(r.receiverUnreadIsExact ? 1 : 0))
                b.append(r.unacknowledgedFDs); b.append(r.pendingSyncRequests)
                b.append(r.receiverUnprocessedBytes); b.append(r.receiverUnmatchedFDs)
            }
        case .violation(let r):
            return appendRecord(kind: TraceRecordKind.violation.rawValue) { b in
                b.append(r.time); b.append(r.channel); b.append(r.direction.rawValue)
                b.append(r.kindName); b.append(r.severity.rawValue)
                b.append(r.limit); b.append(r.observed); b.append(r.streamOffset)
                b.append(r.frameIndex != nil); b.append(r.frameIndex ?? 0)
                b.append(r.continuation.rawValue)
            }
        case .captureLoss(let r):
            return appendRecord(kind: TraceRecordKind.captureLoss.rawValue) { b in
                b.append(r.time); b.append(r.channel); b.append(r.direction.rawValue)
                b.append(r.framesAffected); b.append(r.bytesNotCaptured); b.append(r.reason)
            }
        case .end(let r):
            return appendRecord(kind: TraceRecordKind.end.rawValue) { b in
                b.append(r.time)
                b.append(r.summary.channels); b.append(r.summary.frames); b.append(r.summary.bytes)
                b.append(r.summary.fds); b.append(r.summary.violations)
                b.append(UInt8(r.cleanStop ? 1 : 0))
            }
        case .channelClosed(let r):
            return appendRecord(kind: TraceRecordKind.channelClosed.rawValue) { b in
                b.append(r.time); b.append(r.channel)
            }
        case .endpointResolved(let r):
            return appendRecord(kind: TraceRecordKind.endpointResolved.rawValue) { b in
                b.append(r.time); b.append(r.channel); b.append(r.side.rawValue)
                b.append(r.endpoint.name); b.append(r.endpoint.pid); b.append(r.endpoint.command)
            }
        case .channelTransferred(let r):
            return appendRecord(kind: TraceRecordKind.channelTransferred.rawValue) { b in
                b.append(r.time); b.append(r.channel); b.append(r.carriedBy.parentChannel)
                b.append(r.carriedBy.direction.rawValue); b.append(r.carriedBy.frameIndex)
            }
        }
    }

    func appendHeaderBody(_ h: TraceHeader) {
        append(h.monotonicAnchorNanoseconds)
        append(h.createdWallClockNanoseconds)
        append(h.formatVersion.major)
        append(h.formatVersion.minor)
        append(h.hostName)
        append(h.ipcscopeVersion)
        append(UInt32(truncatingIfNeeded: h.commandLine.count))
        for argument in h.commandLine { append(argument) }
        append(UInt32(truncatingIfNeeded: h.limits.count))
        for limit in h.limits {
            append(limit.name)
            append(limit.value)
        }
        append(h.snapLength)
        append(UInt32(truncatingIfNeeded: h.schemas.count))
        for schema in h.schemas {
            append(schema.path)
            append(schema.text)
        }
    }

    private func appendChannelOpenedBody(_ r: ChannelOpenedRecord) {
        append(r.time)
        append(r.channel)
        append(r.endpointA.name)
        append(r.endpointB.name)
        append(r.endpointA.pid)
        append(r.endpointA.command)
        append(r.endpointB.pid)
        append(r.endpointB.command)
        append(r.discovery.rawValue)
        append(r.transferredBy != nil)
        append(r.transferredBy?.parentChannel ?? 0)
        append(r.transferredBy?.direction.rawValue ?? 0)
        append(r.transferredBy?.frameIndex ?? 0)
    }

    /// Appends a payload-frame record straight from captured bytes (no intermediate array). The captured
    /// payload is `payload` followed by `payloadTail` (a ring buffer's wrapped part), cut to `snapLength`.
    func appendPayloadFrameRecord(
        time: UInt64, channel: UInt32, direction: Direction, frameIndex: UInt64, streamOffset: UInt64,
        header: FrameHeader, payload: UnsafeRawBufferPointer, payloadTail: UnsafeRawBufferPointer,
        snapLength: Int, fds: some Collection<AttachedFD>
    ) -> Int? {
        let first = Swift.min(payload.count, Swift.max(snapLength, 0))
        let second = Swift.min(payloadTail.count, Swift.max(snapLength, 0) - first)
        // Too large to fit in a record at all: refuse before copying anything.
        guard first + second <= TraceFileLayout.maxBodyLength else { return nil }
        return appendRecord(kind: TraceRecordKind.payloadFrame.rawValue) { b in
            b.reserve(64 + first + second + fds.count * PayloadFrameLayout.fdEntrySize)
            b.append(time); b.append(channel); b.append(direction.rawValue)
            b.append(frameIndex); b.append(streamOffset)
            b.append(header.rawType); b.append(header.payloadSize); b.append(header.fdCount)
            b.append(UInt32(first + second))
            b.append(bytes: UnsafeRawBufferPointer(rebasing: payload.prefix(first)))
            b.append(bytes: UnsafeRawBufferPointer(rebasing: payloadTail.prefix(second)))
            b.append(UInt32(truncatingIfNeeded: fds.count))
            b.append(UInt16(PayloadFrameLayout.fdEntrySize))
            for fd in fds {
                b.append(fd.kind.rawValue)
                b.append(UInt8(fd.interposed ? 1 : 0))
                b.append(fd.inode)
                b.append(fd.size)
            }
        }
    }
}

enum PayloadFrameLayout {
    /// Bytes per attached-fd entry written by this version: kind u8, flags u8, inode u64, size u64.
    static let fdEntrySize = 18
}

extension TraceRecord {
    /// The record framed as it appears in a file (for tools and tests; the writer encodes in place).
    /// Nil when the body would exceed ``TraceFileLayout/maxBodyLength``.
    public func encoded() -> [UInt8]? {
        let buffer = ByteBuffer()
        guard buffer.appendRecord(self) != nil else { return nil }
        return buffer.array
    }
}
