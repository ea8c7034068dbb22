import Robots
import Testing

@Suite struct CrawlDelayTests {
    private func delay(_ value: String) -> Int? {
        parseRobots("User-agent: *\nCrawl-delay: \(value)\n").rules(for: "fetchq").crawlDelayMilliseconds
    }

    @Test(arguments: [
        ("2", 2000),
        ("0", 0),
        ("0.5", 500),
        ("1.25", 1250),
        (".5", 500),
        ("3.", 3000),
        ("0.0015", 1),
        ("10 # seconds", 10_000),
    ])
    func validDelaysAreReadAsMilliseconds(value: String, milliseconds: Int) {
        #expect(delay(value) == milliseconds)
    }

    @Test(arguments: ["-1", "+2", "abc", "", ".", "1e3", "5s", "1.2.3", "1 000"])
    func garbageDelaysAreIgnored(value: String) {
        #expect(delay(value) == nil)
    }

    @Test func hugeDelaySaturatesInsteadOfWrapping() {
        #expect(delay("99999999999999999999999") == Int.max)
    }

    @Test func firstValidDelayInTheGroupWins() {
        let robots = parseRobots(
            """
            User-agent: fetchq
            Crawl-delay: soon
            Crawl-delay: 4
            Crawl-delay: 9
            User-agent: *
            Crawl-delay: 1
            """
        )
        #expect(robots.rules(for: "fetchq").crawlDelayMilliseconds == 4000)
        #expect(robots.rules(for: "other").crawlDelayMilliseconds == 1000)
    }

    @Test func delayAppliesToEveryAgentOfItsGroup() {
        let robots = parseRobots("User-agent: a\nUser-agent: b\nCrawl-delay: 7\nUser-agent: c\nDisallow: /")
        #expect(robots.rules(for: "a").crawlDelayMilliseconds == 7000)
        #expect(robots.rules(for: "b").crawlDelayMilliseconds == 7000)
        #expect(robots.rules(for: "c").crawlDelayMilliseconds == nil)
    }
}
