/// What `ipcscope demo` was asked to do.
public struct DemoOptions: Sendable {
    /// The rough total number of messages all processes send together; the bulk traffic is scaled to it.
    public var messages: Int
    /// Seeds every generated value (bodies, bitmaps, input events), so runs are reproducible.
    public var seed: UInt64
    /// After the normal scenario, break each LibIPC limit once and check that the victim disconnects.
    public var misbehave: Bool

    public static let defaultMessages = 300

    public init(messages: Int = DemoOptions.defaultMessages, seed: UInt64 = 1, misbehave: Bool = false) {
        self.messages = max(0, messages)
        self.seed = seed
        self.misbehave = misbehave
    }
}
