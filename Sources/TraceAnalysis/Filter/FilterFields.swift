/// The fields a filter can name, what type their values have, and how a name that is not a field gets a
/// suggestion. docs/filters.md lists the same table.
public enum FilterField {
    /// What a number literal must look like for a numeric field.
    enum Quantity: Equatable {
        /// Ids and counts: plain numbers (SI multipliers allowed).
        case count
        /// Bytes: plain numbers or byte units.
        case size
        /// Nanoseconds: a time unit is required.
        case duration
    }

    /// Which side(s) of a channel a side field reads.
    enum Role: Equatable {
        /// Either side matches (like tshark's `ip.addr`).
        case either
        case sender
        case receiver
    }

    enum Shape: Equatable {
        case integer(FilterIntegerField, Quantity, presenceIsNonZero: Bool)
        case text(FilterTextField)
        case sidePID(Role)
        case sideEndpoint(Role)
        case sideProcess(Role)
        case kind
        case direction
        case parameter(FilterParameterPath)
    }

    static let table: [(name: String, shape: Shape)] = [
        ("channel", .integer(.channel, .count, presenceIsNonZero: false)),
        ("kind", .kind),
        ("dir", .direction),
        ("endpoint", .sideEndpoint(.either)),
        ("process", .sideProcess(.either)),
        ("pid", .sidePID(.either)),
        ("sender.endpoint", .sideEndpoint(.sender)),
        ("sender.process", .sideProcess(.sender)),
        ("sender.pid", .sidePID(.sender)),
        ("receiver.endpoint", .sideEndpoint(.receiver)),
        ("receiver.process", .sideProcess(.receiver)),
        ("receiver.pid", .sidePID(.receiver)),
        ("message", .text(.message)),
        ("id", .integer(.messageID, .count, presenceIsNonZero: false)),
        ("magic", .integer(.magic, .count, presenceIsNonZero: false)),
        ("size", .integer(.size, .size, presenceIsNonZero: true)),
        ("fds", .integer(.fds, .count, presenceIsNonZero: true)),
        ("time", .integer(.time, .duration, presenceIsNonZero: true)),
        ("latency", .integer(.latency, .duration, presenceIsNonZero: true)),
        ("violation", .text(.violation)),
        ("severity", .text(.severity)),
    ]

    /// Every field name, for help and suggestions (`param.NAME` stands for the parameter fields).
    public static var names: [String] { table.map(\.name) + ["param.NAME"] }

    static func shape(named name: String) -> Shape? {
        if let entry = table.first(where: { $0.name == name }) { return entry.shape }
        if name.hasPrefix("param."), let path = FilterParameterPath(dotted: name.dropFirst("param.".count)) {
            return .parameter(path)
        }
        return nil
    }

    /// Kind names (docs/filters.md): a short name for every record kind of docs/trace-format.md §5, and the
    /// format's own record names as synonyms. `endpoint` covers both endpoint record kinds (11 and 16).
    static let kinds: [(name: String, rawKinds: [UInt8])] = [
        ("header", [1]), ("open", [2]), ("frame", [3]), ("ack", [4]), ("eof", [5]), ("sample", [6]),
        ("violation", [7]), ("loss", [8]), ("end", [9]), ("close", [10]), ("endpoint", [11, 16]),
        ("transfer", [12]), ("late-fds", [13]), ("classified", [14]), ("process", [15]), ("unknown-frame", [17]),
        ("delivered", [18]),
        ("channel-opened", [2]), ("payload-frame", [3]), ("acknowledgement", [4]), ("queue-sample", [6]),
        ("capture-loss", [8]), ("channel-closed", [10]), ("endpoint-resolved", [11]), ("channel-transferred", [12]),
        ("channel-classified", [14]), ("frames-delivered", [18]),
    ]

    /// The short name of a record kind byte (the first name in ``kinds`` that covers it).
    public static func kindName(rawKind: UInt8) -> String? {
        kinds.first { $0.rawKinds.contains(rawKind) }?.name
    }

    /// "did you mean 'channel'?" when a known name is close enough to be a typo.
    static func suggestion(for name: String, among candidates: [String]) -> String? {
        let limit = max(1, min(3, name.count / 3 + 1))
        var best: (name: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(name, candidate)
            if distance <= limit, distance < (best?.distance ?? Int.max) { best = (candidate, distance) }
        }
        return best?.name
    }

    /// Levenshtein distance over Unicode scalars (names are short; this runs on errors only).
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.unicodeScalars.prefix(64)), b = Array(b.unicodeScalars.prefix(64))
        var previous = Array(0...b.count)
        var row = previous
        for i in 1...max(a.count, 1) where !a.isEmpty {
            row[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&row, &previous)
        }
        return a.isEmpty ? b.count : previous[b.count]
    }
}
