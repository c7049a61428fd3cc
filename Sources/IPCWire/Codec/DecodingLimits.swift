/// ipcscope's own bounds on decoding one message, so that hostile payloads cost little time and memory.
public struct DecodingLimits: Hashable, Sendable {
    /// Values (nodes of the decoded tree) per message; beyond this decoding stops with `.undecoded`.
    public var maxValues: Int
    /// Containers inside containers; beyond this decoding stops with `.undecoded`.
    public var maxDepth: Int
    /// Bytes kept of a byte buffer (the true length is kept too).
    public var bytesPrefix: Int
    /// UTF-8 bytes or UTF-16 code units kept of a string.
    public var stringPrefix: Int
    /// Elements kept of a list of numbers; the rest are skipped without decoding.
    public var numericListPrefix: Int

    public init(
        maxValues: Int = 20_000, maxDepth: Int = 64, bytesPrefix: Int = 256, stringPrefix: Int = 16 * 1024,
        numericListPrefix: Int = 256
    ) {
        self.maxValues = maxValues
        self.maxDepth = maxDepth
        self.bytesPrefix = bytesPrefix
        self.stringPrefix = stringPrefix
        self.numericListPrefix = numericListPrefix
    }
}
