import Robots
import Testing

@Suite struct PercentEncodingTests {
    @Test(arguments: [
        ("/a%3cd", "/a%3Cd"),
        ("/a%3Cd", "/a%3cd"),
        ("/%7Ejoe", "/~joe"),
        ("/~joe", "/%7ejoe"),
        ("/foo/bar/%62%61%7A", "/foo/bar/baz"),
        ("/fée", "/f%C3%A9e"),
        ("/fée", "/f%c3%a9e"),
        ("/foo/bar/%E3%83%84", "/foo/bar/ツ"),
    ])
    func equivalentSpellingsMatch(rule: String, path: String) {
        let rules = parseRobots("User-agent: *\nDisallow: \(rule)$").rules(for: "fetchq")
        #expect(!rules.allows(path: path))
    }

    @Test func escapedReservedCharactersStayDistinctFromTheLiteral() {
        let rules = parseRobots("User-agent: *\nDisallow: /a%2Fb").rules(for: "fetchq")
        #expect(!rules.allows(path: "/a%2fb"))
        #expect(rules.allows(path: "/a/b"))
    }

    @Test func malformedEscapesAreComparedLiterally() {
        let rules = parseRobots("User-agent: *\nDisallow: /100%\nDisallow: /%zz").rules(for: "fetchq")
        #expect(!rules.allows(path: "/100%"))
        #expect(!rules.allows(path: "/%zz"))
        #expect(rules.allows(path: "/100"))
    }
}
