import IPCWire

/// Sending demo messages by name.
extension PeerRuntime {
    func post<Name: DemoMessageName>(_ connection: DemoConnection, _ name: Name, _ arguments: [IPCValue]) throws(DemoFailure) {
        try connection.post(try demoProtocol.message(name, arguments))
    }

    /// A sync call; `step` defaults to the message name.
    func call<Name: DemoMessageName>(
        _ connection: DemoConnection, _ name: Name, _ arguments: [IPCValue], step: String? = nil,
        timeout: Duration = .seconds(10)
    ) throws(DemoFailure) -> DemoIncoming {
        let request = try demoProtocol.message(name, arguments)
        return try call(connection, request, step: step ?? "\(name.rawValue) → \(connection.name)", timeout: timeout)
    }

    /// Answers the sync request `incoming` on the connection it came from.
    func respond<Name: DemoMessageName>(to incoming: DemoIncoming, _ name: Name, _ arguments: [IPCValue]) throws(DemoFailure) {
        try incoming.connection.post(try demoProtocol.response(to: name, arguments))
    }
}
