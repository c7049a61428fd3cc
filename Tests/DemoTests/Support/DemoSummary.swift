/// The summary `ipcscope demo` prints, parsed back: one row per process and the final "demo ok" line.
struct DemoSummary {
    struct Row {
        var pid: Int
        var messagesSent: Int
        var messagesReceived: Int
        var bytesSent: Int
        var bytesReceived: Int
        var fdsSent: Int
        var fdsReceived: Int
        var fdsAcknowledged: Int
        var retained: Int
        var transfersOut: Int
        var transfersIn: Int
        var violations: Int
    }

    /// Keyed by "UI", "WebContent", "RequestServer".
    var rows: [String: Row] = [:]
    var messages = 0
    var fds = 0
    var transfers = 0
    var ok = false

    init(_ output: String) {
        for line in output.split(separator: "\n").map(String.init) {
            if line.hasPrefix("demo ok: ") {
                ok = true
                // "demo ok: N messages, M fds, K transfers in X.XXs"
                let words = line.split(separator: " ")
                messages = Int(words[2]) ?? -1
                fds = Int(words[4]) ?? -1
                transfers = Int(words[6]) ?? -1
                continue
            }
            for process in ["UI", "WebContent", "RequestServer"] where line.hasPrefix("\(process) (pid ") {
                let afterLabel = line.drop { $0 != ")" }.dropFirst()
                let pid = Int(line.dropFirst(process.count + 6).prefix { $0.isNumber }) ?? -1
                let fields = afterLabel.split(separator: " ")
                guard fields.count == 10 else { continue }
                let numbers = fields.map { Int($0) }
                let transfers = fields[8].split(separator: "/").compactMap { Int($0) }
                guard transfers.count == 2, let n0 = numbers[0], let n1 = numbers[1], let n2 = numbers[2], let n3 = numbers[3],
                      let n4 = numbers[4], let n5 = numbers[5], let n6 = numbers[6], let n7 = numbers[7], let n9 = numbers[9]
                else { continue }
                rows[process] = Row(
                    pid: pid, messagesSent: n0, messagesReceived: n1, bytesSent: n2, bytesReceived: n3, fdsSent: n4,
                    fdsReceived: n5, fdsAcknowledged: n6, retained: n7, transfersOut: transfers[0], transfersIn: transfers[1],
                    violations: n9)
            }
        }
    }
}
