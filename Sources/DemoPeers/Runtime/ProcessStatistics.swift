import IPCTransport

/// What one demo process did on all of its transports together: the figures of one row of the summary.
public struct ProcessStatistics: Sendable, Equatable {
    public var messagesSent = 0
    public var messagesReceived = 0
    public var bytesSent = 0
    public var bytesReceived = 0
    public var fdsSent = 0
    public var fdsReceived = 0
    /// Our fds the peers acknowledged.
    public var fdsAcknowledged = 0
    /// Our fds still waiting for an acknowledgement when each transport ended (must be 0).
    public var retainedFDs = 0
    /// Transports handed to another process (a TransportHandle sent, or a port released and sent).
    public var transfersOut = 0
    /// Transports received from another process and adopted.
    public var transfersIn = 0
    /// Connections this process dropped because the peer broke a LibIPC rule.
    public var violations = 0
    public var transports = 0

    public init() {}

    /// Adds the final counters of one transport; `retained` is the count measured before it was closed.
    mutating func add(_ snapshot: TransportStatisticsSnapshot, retained: Int) {
        messagesSent += snapshot.messagesSent
        messagesReceived += snapshot.messagesReceived
        bytesSent += snapshot.payloadBytesSent
        bytesReceived += snapshot.payloadBytesReceived
        fdsSent += snapshot.fdsSent
        fdsReceived += snapshot.fdsReceived
        fdsAcknowledged += snapshot.fdsAcknowledgedByPeer
        retainedFDs += retained
        transports += 1
    }

    // MARK: The line a helper prints on stderr for the UI's summary

    static let linePrefix = "ipcscope-demo-stats"

    private var fields: [(String, Int)] {
        [
            ("messages-sent", messagesSent), ("messages-received", messagesReceived),
            ("bytes-sent", bytesSent), ("bytes-received", bytesReceived),
            ("fds-sent", fdsSent), ("fds-received", fdsReceived), ("fds-acknowledged", fdsAcknowledged),
            ("retained", retainedFDs), ("transfers-out", transfersOut), ("transfers-in", transfersIn),
            ("violations", violations), ("transports", transports),
        ]
    }

    /// `ipcscope-demo-stats pid=… ok=1 messages-sent=… …`: one line, key=value pairs.
    func line(pid: Int32, ok: Bool) -> String {
        ([Self.linePrefix, "pid=\(pid)", "ok=\(ok ? 1 : 0)"] + fields.map { "\($0.0)=\($0.1)" }).joined(separator: " ")
    }

    /// Parses a line written by ``line(pid:ok:)``; nil for any other line.
    static func parse(line: String) -> (pid: Int32, ok: Bool, statistics: ProcessStatistics)? {
        let words = line.split(separator: " ")
        guard words.first == Substring(linePrefix) else { return nil }
        var values: [String: Int] = [:]
        for word in words.dropFirst() {
            let parts = word.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let number = Int(parts[1]) else { return nil }
            values[String(parts[0])] = number
        }
        var s = ProcessStatistics()
        guard let pid = values["pid"], let ok = values["ok"],
              let a = values["messages-sent"], let b = values["messages-received"], let c = values["bytes-sent"],
              let d = values["bytes-received"], let e = values["fds-sent"], let f = values["fds-received"],
              let g = values["fds-acknowledged"], let h = values["retained"], let i = values["transfers-out"],
              let j = values["transfers-in"], let k = values["violations"], let l = values["transports"]
        else { return nil }
        (s.messagesSent, s.messagesReceived, s.bytesSent, s.bytesReceived) = (a, b, c, d)
        (s.fdsSent, s.fdsReceived, s.fdsAcknowledged, s.retainedFDs) = (e, f, g, h)
        (s.transfersOut, s.transfersIn, s.violations, s.transports) = (i, j, k, l)
        return (Int32(truncatingIfNeeded: pid), ok == 1, s)
    }
}
