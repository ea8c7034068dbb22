/// The grouping state machine of RFC 9309 §2.1, fed one line at a time.
///
/// A run of consecutive `user-agent` lines opens a group; every rule up to the next run belongs to
/// all of the run's agents. Each group's rules are stored once and agents point at their groups,
/// so a group naming thousands of agents costs no more than one naming a single agent.
struct RobotsParser {
    /// What a group has gathered so far.
    private struct Group {
        var rules: [RobotsRule] = []
        var crawlDelayMilliseconds: Int?
    }

    private var groups: [Group] = []
    /// For each lowercased product token, the groups naming it, in file order.
    private var groupIndices: [String: [Int]] = [:]
    /// Whether the last understood line was a `user-agent` line, so the next one joins its group.
    private var inAgentRun = false

    /// Reads a whole body, skipping a UTF-8 byte order mark and splitting at CR, LF or CRLF.
    mutating func consume(_ body: [UInt8]) {
        var start = body.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        while start < body.count {
            var end = start
            while end < body.count, body[end] != UInt8(ascii: "\n"), body[end] != UInt8(ascii: "\r") {
                end += 1
            }
            if let line = RobotsLine(body[start..<end]) {
                consume(line)
            }
            start = end + 1
        }
    }

    private mutating func consume(_ line: RobotsLine) {
        switch line.field {
        case .userAgent:
            if !inAgentRun {
                groups.append(Group())
            }
            inAgentRun = true
            let token = RobotsTxt.productToken(fromUserAgent: String(decoding: line.value, as: UTF8.self))
            let key = RobotsASCII.lowercased(token)
            let current = groups.count - 1
            // A group without rules still matches, and allows everything.
            if !key.isEmpty, groupIndices[key]?.last != current {
                groupIndices[key, default: []].append(current)
            }
        case .allow, .disallow:
            inAgentRun = false
            let kind: RobotsRule.Kind = line.field == .allow ? .allow : .disallow
            // Rules before the first `user-agent` line belong to no group and are dropped.
            guard !groups.isEmpty, let rule = RobotsRule(kind: kind, pattern: line.value) else { return }
            groups[groups.count - 1].rules.append(rule)
        case .crawlDelay:
            inAgentRun = false
            guard !groups.isEmpty, groups[groups.count - 1].crawlDelayMilliseconds == nil else { return }
            groups[groups.count - 1].crawlDelayMilliseconds = RobotsCrawlDelay.milliseconds(from: line.value)
        }
    }

    /// The groups in file order, and for each lowercased product token the groups naming it.
    func finish() -> (groups: [RobotsRules], groupIndices: [String: [Int]]) {
        let rules = groups.map { RobotsRules(rules: $0.rules, crawlDelayMilliseconds: $0.crawlDelayMilliseconds) }
        return (rules, groupIndices)
    }
}
