/// One decoded parameter (or part of one) with where its bytes are in the payload.
public struct DecodedValue: Hashable, Sendable {
    /// The parameter name; `[i]` for list elements, `key`/`value` inside map entries, field names in structures.
    public var name: String
    /// The type as written in the schema (an alias keeps its own name).
    public var type: String
    /// Offsets in the payload (envelope included), for hex highlighting. Empty for fds and `Empty`.
    public var byteRange: Range<Int>
    public var content: Content

    public indirect enum Content: Hashable, Sendable {
        /// A value with no decoded parts (numbers, strings, bytes, attachments, enums, `Empty`, invalid buffers).
        case leaf(IPCValue)
        case optional(DecodedValue?)
        /// Elements; `totalCount` exceeds `elements.count` when only a prefix of a long numeric list was kept.
        case list([DecodedValue], totalCount: Int)
        /// One child per entry, each a `.structure` of `key` and `value`.
        case map([DecodedValue])
        case structure([DecodedValue])
        case variant(index: Int, DecodedValue)
    }

    public init(name: String, type: String, byteRange: Range<Int>, content: Content) {
        self.name = name
        self.type = type
        self.byteRange = byteRange
        self.content = content
    }

    /// The decoded parts, in wire order (map entries, fields, elements, the present value).
    public var children: [DecodedValue] {
        switch content {
        case .leaf: []
        case .optional(let inner): inner.map { [$0] } ?? []
        case .list(let elements, _): elements
        case .map(let entries): entries
        case .structure(let fields): fields
        case .variant(_, let inner): [inner]
        }
    }

    /// The same value without names and positions, comparable with what was encoded.
    public var value: IPCValue {
        switch content {
        case .leaf(let value):
            return value
        case .optional(let inner):
            return inner.map { .present($0.value) } ?? .absent
        case .list(let elements, let totalCount):
            let list = IPCValue.list(elements.map(\.value))
            return totalCount > elements.count ? .elided(list, totalCount: totalCount) : list
        case .map(let entries):
            return .map(entries.map { entry in
                let parts = entry.children
                return IPCMapEntry(key: parts.first?.value ?? .empty, value: parts.dropFirst().first?.value ?? .empty)
            })
        case .structure(let fields):
            return .structure(fields.map(\.value))
        case .variant(let index, let inner):
            return .variant(index: index, inner.value)
        }
    }
}
