/// Integer-valued facts about an event. The filter asks for them by field, so an event type answers
/// with a switch and no allocation.
public enum FilterIntegerField: UInt8, Sendable, CaseIterable {
    case channel
    /// The trace record kind byte (docs/trace-format.md §5).
    case kind
    /// 0 = A→B, 1 = B→A.
    case direction
    /// The process of side A / side B of the event's channel (a process record: its own pid, as side A).
    case pidA, pidB
    /// Envelope of a payload frame.
    case messageID, magic
    /// Payload size of a frame (the header's `payload_size`).
    case size
    /// Fds: a frame header's `fd_count`, an acknowledgement's count, a late-fds record's fds.
    case fds
    /// Nanoseconds since the trace started (the header's monotonic anchor).
    case time
    /// Nanoseconds from a sync request to its response (on both frames).
    case latency
}

/// Text-valued facts, lent as UTF-8 bytes.
public enum FilterTextField: UInt8, Sendable, CaseIterable {
    /// The LibIPC endpoint side A / B implements (`WebContentClient`).
    case endpointA, endpointB
    /// The process name of side A / B (its executable's base name).
    case processA, processB
    /// `Endpoint::message` from the schemas.
    case message
    /// A violation record's kind (`payload-too-large`).
    case violation
    /// A violation record's severity: `violation` or `warning`.
    case severity
}

/// What a filter evaluates over. Integer and text accessors must not allocate for the filter to stay
/// allocation-free; ``parameter(_:)`` may (it decodes a payload) and is only called when the filter
/// reaches a `param.…` test. A field the event does not have is nil: every comparison on it is false.
public protocol FilterSubject {
    func integer(_ field: FilterIntegerField) -> Int64?
    /// Calls `body` with the field's UTF-8 bytes; nil (without calling it) when the event has no such field.
    func withText<R>(_ field: FilterTextField, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R?
    /// A decoded parameter by path (`url`, `headers.0.name`); nil when absent or not decodable.
    func parameter(_ path: FilterParameterPath) -> FilterParameterValue?
}

extension FilterSubject {
    public func parameter(_ path: FilterParameterPath) -> FilterParameterValue? { nil }
}

/// `param.headers.0.name` → [headers, 0, name]: names select parameters and structure fields, numbers
/// select list elements (or the n-th field or map entry).
public struct FilterParameterPath: Hashable, Sendable, CustomStringConvertible {
    public enum Component: Hashable, Sendable {
        case name(String)
        case index(Int)
    }

    public var components: [Component]

    public init(components: [Component]) { self.components = components }

    /// Parses the part after `param.`; nil when a component is empty.
    public init?(dotted text: Substring) {
        var components: [Component] = []
        for part in text.split(separator: ".", omittingEmptySubsequences: false) {
            guard !part.isEmpty else { return nil }
            if let index = Int(part), index >= 0 { components.append(.index(index)) } else { components.append(.name(String(part))) }
        }
        guard !components.isEmpty else { return nil }
        self.components = components
    }

    public var description: String {
        components.map { component in
            switch component {
            case .name(let name): name
            case .index(let index): String(index)
            }
        }.joined(separator: ".")
    }
}

/// A decoded parameter as the filter compares it.
public enum FilterParameterValue: Equatable, Sendable {
    case integer(Int64)
    case unsigned(UInt64)
    case real(Double)
    case boolean(Bool)
    /// Strings, and enum cases by name.
    case text(String)
    case bytes([UInt8])
    /// A list, map or structure with this many parts (compares only by presence: non-empty).
    case composite(count: Int)
    /// An absent optional.
    case absent
}
