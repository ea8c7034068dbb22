import Robots
import Testing

@Suite struct HostileInputTests {
    @Test func thousandsOfAgentsSharingThousandsOfRulesStayCheap() {
        var text = ""
        for agent in 0..<15_000 {
            text += "User-agent: bot\(agent)\n"
        }
        for rule in 0..<15_000 {
            text += "Disallow: /r\(rule)\n"
        }
        let robots = parseRobots(text)
        #expect(!robots.rules(for: "bot14999").allows(path: "/r14999"))
        #expect(robots.rules(for: "bot0").allows(path: "/other"))
    }

    @Test func oneHugeLineParses() {
        let robots = parseRobots("User-agent: *\nDisallow: /" + String(repeating: "x*", count: 200_000))
        #expect(!robots.rules(for: "fetchq").allows(path: "/" + String(repeating: "x", count: 300_000)))
        #expect(robots.rules(for: "fetchq").allows(path: "/x"))
    }
}
