/// The per-process table printed at the end of `ipcscope demo`.
enum SummaryTable {
    struct Row {
        var process: String
        var statistics: ProcessStatistics
    }

    static let headers = [
        "process", "msgs sent", "msgs recv", "bytes sent", "bytes recv", "fds sent", "fds recv", "fds acked",
        "retained", "transfers out/in", "violations",
    ]

    static func render(_ rows: [Row]) -> String {
        let cells = rows.map { row -> [String] in
            let s = row.statistics
            return [
                row.process, "\(s.messagesSent)", "\(s.messagesReceived)", "\(s.bytesSent)", "\(s.bytesReceived)",
                "\(s.fdsSent)", "\(s.fdsReceived)", "\(s.fdsAcknowledged)", "\(s.retainedFDs)",
                "\(s.transfersOut)/\(s.transfersIn)", "\(s.violations)",
            ]
        }
        let table = [headers] + cells
        let widths = headers.indices.map { column in table.map { $0[column].count }.max() ?? 0 }
        return table.map { line in
            line.enumerated().map { column, text in
                let pad = String(repeating: " ", count: widths[column] - text.count)
                return column == 0 ? text + pad : pad + text  // names left, numbers right
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
