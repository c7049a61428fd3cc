/// The helper processes of the demo, named as Ladybird names its helpers.
public enum DemoRole: String, CaseIterable, Sendable {
    case webContent = "webcontent"
    case requestServer = "requestserver"

    /// The name in `SOCKET_TAKEOVER=<name>:<fd>` (docs/protocol.md §7).
    public var takeoverName: String {
        switch self {
        case .webContent: "WebContent"
        case .requestServer: "RequestServer"
        }
    }
}
