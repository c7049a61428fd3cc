/// The `--misbehave` part of the report: each broken rule and how the victim reacted.
enum MisbehaviorReport {
    static func render(_ outcomes: [MisbehaviorOutcome]) -> String {
        var lines = ["misbehaving peer: WebContent breaks one LibIPC rule per fresh RequestServer client connection"]
        let ruleWidth = Misbehavior.allCases.map(\.brokenRule.count).max() ?? 0
        let kindWidth = Misbehavior.allCases.map(\.expectedViolation.rawValue.count).max() ?? 0
        for (index, outcome) in outcomes.enumerated() {
            let rule = outcome.kind.brokenRule.padding(to: ruleWidth)
            let kind = outcome.kind.expectedViolation.rawValue.padding(to: kindWidth)
            let verdict = outcome.detected ? "detected" : "NOT DETECTED"
            lines.append("  \(index + 1). \(rule)  \(kind)  \(verdict): RequestServer \(outcome.reason)")
        }
        let detected = outcomes.filter(\.detected).count
        lines.append("misbehave: \(detected) of \(Misbehavior.allCases.count) kinds detected; the victim disconnected each time")
        if detected != Misbehavior.allCases.count {
            lines[lines.count - 1] = "misbehave: only \(detected) of \(Misbehavior.allCases.count) kinds detected"
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    func padding(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
