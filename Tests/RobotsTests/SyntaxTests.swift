import Robots
import Testing

@Suite struct SyntaxTests {
    @Test func commentsAreIgnoredWholeAndAtLineEnd() {
        let robots = parseRobots(
            """
            # a comment line
            User-agent: * # everyone
            Disallow: /private # not /public
            """
        )
        let rules = robots.rules(for: "fetchq")
        #expect(!rules.allows(path: "/private"))
        #expect(rules.allows(path: "/public"))
    }

    @Test(arguments: ["\r\n", "\r", "\n"])
    func anyLineEndingSeparatesLines(lineEnd: String) {
        let robots = parseRobots(
            ["User-agent: a", "Disallow: /a", "User-agent: b", "Disallow: /b"].joined(separator: lineEnd))
        #expect(!robots.rules(for: "a").allows(path: "/a"))
        #expect(robots.rules(for: "a").allows(path: "/b"))
        #expect(!robots.rules(for: "b").allows(path: "/b"))
    }

    @Test func leadingByteOrderMarkIsSkipped() {
        let robots = RobotsTxt(parsing: [0xEF, 0xBB, 0xBF] + Array("User-agent: *\nDisallow: /x\n".utf8))
        #expect(!robots.rules(for: "fetchq").allows(path: "/x"))
    }

    @Test func fieldNamesAreCaseInsensitiveAndWhitespaceIsTrimmed() {
        let robots = parseRobots("  USER-AGENT :\t*  \n\tDisALLow  :   /x   \nALLOW: /x/y\n")
        let rules = robots.rules(for: "fetchq")
        #expect(!rules.allows(path: "/x"))
        #expect(rules.allows(path: "/x/y"))
    }

    @Test func unknownFieldsNeitherApplyNorSplitAGroup() {
        let robots = parseRobots(
            """
            User-agent: alpha
            Sitemap: https://example.com/sitemap.xml
            User-agent: beta
            Host: example.com
            Disallow: /x
            Noindex: /y
            """
        )
        #expect(!robots.rules(for: "alpha").allows(path: "/x"))
        #expect(!robots.rules(for: "beta").allows(path: "/x"))
        #expect(robots.rules(for: "beta").allows(path: "/y"))
    }

    @Test func garbageLinesAreSkipped() {
        let robots = parseRobots(
            """
            <html><body>Not a robots file
            User-agent: *
            Disallow /no-colon
            : no field
            Disallow: /real
            \u{0}\u{1}binary
            """
        )
        let rules = robots.rules(for: "fetchq")
        #expect(rules.allows(path: "/no-colon"))
        #expect(!rules.allows(path: "/real"))
    }

    @Test func invalidUTF8DoesNotStopParsing() {
        let body = Array("User-agent: *\nDisallow: /a".utf8) + [0xFF, 0xFE] + Array("\nDisallow: /b\n".utf8)
        let rules = RobotsTxt(parsing: body).rules(for: "fetchq")
        #expect(!rules.allows(path: "/a%FF%FE"))
        #expect(!rules.allows(path: "/b"))
    }
}
