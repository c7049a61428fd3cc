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
                if let size = r.payloadSize { b.append(size) }  // 1.1; absent when unknown
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
                b.append(r.flags)
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
                // 1.1: which frames, and what else was lost with them.
                b.append(r.frameRange != nil)
                b.append(r.frameRange?.lowerBound ?? 0); b.append(r.frameRange?.upperBound ?? 0)
                b.append(r.acknowledgementFrames); b.append(r.unknownTypeFrames)
                b.append(r.otherRecords.queueSamples); b.append(r.otherRecords.lateFDs)
                b.append(r.otherRecords.framesDelivered)
            }
        case .end(let r):
            return appendRecord(kind: TraceRecordKind.end.rawValue) { b in
                b.append(r.time)
                b.append(r.summary.channels); b.append(r.summary.frames); b.append(r.summary.bytes)
                b.append(r.summary.fds); b.append(r.summary.violations)
                b.append(UInt8(r.cleanStop ? 1 : 0))
                b.append(r.stopReason.rawValue); b.append(r.errorNumber); b.append(r.stopOffset)
                b.append(r.failedOperation)
                // 1.1: the frames and warnings the fields above leave out; absent (not zero) when unknown.
                if let acks = r.summary.acknowledgementFrames, let unknown = r.summary.unknownTypeFrames,
                   let warnings = r.summary.warnings {
                    b.append(acks); b.append(unknown); b.append(warnings)
                }
            }
        case .channelClosed(let r):
            return appendRecord(kind: TraceRecordKind.channelClosed.rawValue) { b in
                b.append(r.time); b.append(r.channel)
                // 1.1: what the channel relayed. Absent (not zero) when unknown.
                if let traffic = r.traffic {
                    for direction in [traffic.aToB, traffic.bToA] {
                        b.append(direction.bytes); b.append(direction.reads); b.append(direction.fds)
                    }
                }
            }
        case .endpointResolved(let r):
            return appendRecord(kind: TraceRecordKind.endpointResolved.rawValue) { b in
                b.append(r.time); b.append(r.channel); b.append(r.side.rawValue)
                b.append(r.endpoint.name); b.append(r.endpoint.pid); b.append(r.endpoint.command)
            }
        case .process(let r):
            return appendRecord(kind: TraceRecordKind.process.rawValue) { b in
                b.append(r.time); b.append(r.pid); b.append(r.parentPID); b.append(r.startTime)
                b.append(r.bootClockAtTime); b.append(r.flags.rawValue); b.append(r.executable)
                b.append(UInt32(truncatingIfNeeded: r.arguments.count))
                for argument in r.arguments { b.append(argument) }
            }
        case .endpoint(let r):
            return appendRecord(kind: TraceRecordKind.endpoint.rawValue) { b in
                b.append(r.time); b.append(r.channel); b.append(r.side.rawValue); b.append(r.pid)
                b.append(r.processStartTime); b.append(r.basis.rawValue); b.append(UInt8(r.afterTransfer ? 1 : 0))
                b.append(r.endpointName)
            }
        case .channelTransferred(let r):
            return appendRecord(kind: TraceRecordKind.channelTransferred.rawValue) { b in
                b.append(r.time); b.append(r.channel); b.append(r.carriedBy.parentChannel)
                b.append(r.carriedBy.direction.rawValue); b.append(r.carriedBy.frameIndex)
                b.append(r.adoption != nil); b.append(r.adoption?.recoveredFrames ?? 0)
                b.append(r.adoption?.recoveredDirection.rawValue ?? 0)
            }
        case .channelClassified(let r):
            return appendRecord(kind: TraceRecordKind.channelClassified.rawValue) { b in
                b.append(r.time); b.append(r.channel); b.append(r.channelProtocol.rawValue)
                b.append(r.decidedBy != nil); b.append(r.decidedBy?.rawValue ?? 0)
                b.append(r.reason)
                b.appendBlob(r.evidence)
            }
        case .unknownFrame(let r):
            return appendRecord(kind: TraceRecordKind.unknownFrame.rawValue) { b in
                b.append(r.time); b.append(r.channel); b.append(r.direction.rawValue)
                b.append(r.frameIndex); b.append(r.streamOffset)
                b.append(r.header.rawType); b.append(r.header.payloadSize); b.append(r.header.fdCount)
            }
        case .framesDelivered(let r):
            return appendRecord(kind: TraceRecordKind.framesDelivered.rawValue) { b in
                b.append(r.time); b.append(r.channel); b.append(r.direction.rawValue)
                b.append(r.firstFrameIndex); b.append(r.lastFrameIndex)
            }
        case .lateFDs(let r):
            return appendRecord(kind: TraceRecordKind.lateFDs.rawValue) { b in
                b.append(r.time); b.append(r.channel); b.append(r.direction.rawValue); b.append(r.frameIndex)
                b.appendAttachedFDs(r.fds)
            }
        }
    }

    /// An fd list as the payload-frame record lays it out: count, entry size, entries.
    func appendAttachedFDs(_ fds: [AttachedFD]) {
        append(UInt32(truncatingIfNeeded: fds.count))
        append(UInt16(PayloadFrameLayout.fdEntrySize))
        for fd in fds {
            append(fd.kind.rawValue)
            append(UInt8(fd.interposed ? 1 : 0))
            append(fd.inode)
            append(fd.size)
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
    ///
    /// The hot path of recording (one call per relayed frame), so it reserves the whole record once and
    /// stores the fields through a local cursor: one capacity check and one count update per record
    /// rather than one per field. The layout is the same as every other record's (§4.3).
    func appendPayloadFrameRecord(
        time: UInt64, channel: UInt32, direction: Direction, frameIndex: UInt64, streamOffset: UInt64,
        header: FrameHeader, payload: UnsafeRawBufferPointer, payloadTail: UnsafeRawBufferPointer,
        snapLength: Int, fds: [AttachedFD]
    ) -> Int? {
        let first = Swift.min(payload.count, Swift.max(snapLength, 0))
        let second = Swift.min(payloadTail.count, Swift.max(snapLength, 0) - first)
        let bodyLength = PayloadFrameLayout.fixedBodySize + first + second + fds.count * PayloadFrameLayout.fdEntrySize
        // Too large to fit in a record at all: refuse before copying anything.
        guard bodyLength <= TraceFileLayout.maxBodyLength else { return nil }
        let recordLength = TraceFileLayout.recordHeaderSize + bodyLength
        reserve(recordLength)
        let start = count
        var cursor = FieldCursor(pointer(at: start))
        cursor.put(TraceFileLayout.syncMarker)
        cursor.put(UInt32(bodyLength))
        cursor.put(UInt32(0))  // CRC, below or by the writer thread
        cursor.put(TraceRecordKind.payloadFrame.rawValue)
        cursor.put(time); cursor.put(channel); cursor.put(direction.rawValue)
        cursor.put(frameIndex); cursor.put(streamOffset)
        cursor.put(header.rawType); cursor.put(header.payloadSize); cursor.put(header.fdCount)
        cursor.put(UInt32(first + second))
        cursor.put(bytes: UnsafeRawBufferPointer(rebasing: payload.prefix(first)))
        cursor.put(bytes: UnsafeRawBufferPointer(rebasing: payloadTail.prefix(second)))
        cursor.put(UInt32(truncatingIfNeeded: fds.count))
        cursor.put(UInt16(PayloadFrameLayout.fdEntrySize))
        for fd in fds {
            cursor.put(fd.kind.rawValue)
            cursor.put(UInt8(fd.interposed ? 1 : 0))
            cursor.put(fd.inode)
            cursor.put(fd.size)
        }
        assert(cursor.position == pointer(at: start + recordLength), "payload-frame layout and size disagree")
        didAppend(recordLength)
        if !defersChecksums { fillChecksum(ofRecordAt: start) }
        return recordLength
    }
}

/// Stores little-endian fields one after another into memory already reserved.
struct FieldCursor {
    private(set) var position: UnsafeMutableRawPointer

    init(_ position: UnsafeMutableRawPointer) {
        self.position = position
    }

    @inline(__always)
    mutating func put<T: FixedWidthInteger>(_ value: T) {
        position.storeBytes(of: value.littleEndian, as: T.self)
        position += MemoryLayout<T>.size
    }

    @inline(__always)
    mutating func put(bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        position.copyMemory(from: source, byteCount: bytes.count)
        position += bytes.count
    }
}

enum PayloadFrameLayout {
    /// Bytes per attached-fd entry written by this version: kind u8, flags u8, inode u64, size u64.
    static let fdEntrySize = 18
    /// Body bytes besides the capture and the fd entries: time, channel, direction, frame index, stream
    /// offset, frame type, payload size, fd count, captured length, fd entry count, fd entry size.
    static let fixedBodySize = 8 + 4 + 1 + 8 + 8 + 1 + 4 + 4 + 4 + 4 + 2
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
