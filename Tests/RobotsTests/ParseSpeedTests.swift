import Robots
import Testing

@Suite struct LargeFileTests {
    /// A file of the most fetchq reads (500 KiB) is parsed whole: its last groups apply too.
    @Test func aFileOfHalfAMebibyteAppliesEveryGroup() {
        var text = ""
        var ruleCount = 0
        var groupCount = 0
        while text.utf8.count < 500 * 1024 {
            text += "User-agent: bot\(groupCount)\nUser-agent: *\nCrawl-delay: 1.5\n"
            for rule in 0..<40 {
                text += "Disallow: /section\(groupCount)/*/page\(rule)*.html$  # generated\n"
                text += "Allow: /section\(groupCount)/public%7E\(rule)/\n"
                ruleCount += 2
            }
            text += "Sitemap: https://example.com/sitemap\(groupCount).xml\n\n"
            groupCount += 1
        }
        let body = Array(text.utf8)

        let robots = RobotsTxt(parsing: body)
        let rules = robots.rules(for: "fetchq")
        #expect(!rules.allows(path: "/section7/a/b/page3x.html"))
        #expect(rules.allows(path: "/section7/public~3/index.html"))
        #expect(ruleCount > 10_000)
        let last = groupCount - 1
        #expect(!rules.allows(path: "/section\(last)/a/page39.html"))
        #expect(robots.rules(for: "bot3").crawlDelayMilliseconds == 1500)
    }
}
