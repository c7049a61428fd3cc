/// A step of the demo that did not go as expected. Every check in every role ends in one of these, so
/// the final message can name the step that failed.
public struct DemoFailure: Error, Sendable, CustomStringConvertible {
    public var step: String
    public var reason: String

    public init(step: String, _ reason: String) {
        self.step = step
        self.reason = reason
    }

    public var description: String { "\(step): \(reason)" }
}
