import Robots
import Testing

@Suite struct MatchingTests {
    private func rules(_ lines: String) -> RobotsRules {
        parseRobots("User-agent: *\n" + lines).rules(for: "fetchq")
    }

    @Test func patternsMatchFromTheStartOfThePath() {
        let rules = rules("Disallow: /private")
        #expect(!rules.allows(path: "/private"))
        #expect(!rules.allows(path: "/private/page.html"))
        #expect(!rules.allows(path: "/privateer"))
        #expect(rules.allows(path: "/public/private"))
    }

    @Test func patternWithoutLeadingSlashMeansFromTheRoot() {
        #expect(!rules("Disallow: private").allows(path: "/private/x"))
    }

    @Test(arguments: [
        ("/fish*.php", "/fish.php", false),
        ("/fish*.php", "/fishheads/catfish.php?parameters", false),
        ("/fish*.php", "/Fish.PHP", true),
        ("/*.php", "/folder/filename.php?parameters", false),
        ("/*.php", "/", true),
        ("/fish*", "/fish", false),
        ("/fish*", "/fishheads/yummy.html", false),
        ("/a*b*c", "/a-b-c", false),
        ("/a*b*c", "/a-c-b", true),
        ("*.gif", "/images/cat.gif", false),
    ])
    func wildcardMatchesAnyRunOfCharacters(pattern: String, path: String, allowed: Bool) {
        #expect(rules("Disallow: \(pattern)").allows(path: path) == allowed)
    }

    @Test(arguments: [
        ("/*.php$", "/filename.php", false),
        ("/*.php$", "/folder/filename.php", false),
        ("/*.php$", "/filename.php?parameters", true),
        ("/*.php$", "/filename.php/", true),
        ("/exact$", "/exact", false),
        ("/exact$", "/exactly", true),
        ("/$", "/", false),
        ("/$", "/page", true),
        ("/a*$", "/abc", false),
    ])
    func dollarAnchorsToTheEndOfThePath(pattern: String, path: String, allowed: Bool) {
        #expect(rules("Disallow: \(pattern)").allows(path: path) == allowed)
    }

    @Test func dollarInTheMiddleIsALiteral() {
        let rules = rules("Disallow: /a$b")
        #expect(!rules.allows(path: "/a$b/c"))
        #expect(rules.allows(path: "/a"))
    }

    @Test func longestMatchingRuleWins() {
        let rules = rules(
            """
            Allow: /page
            Disallow: /*.htm
            Disallow: /
            Allow: /folder/
            Disallow: /folder/private
            """
        )
        #expect(rules.allows(path: "/page"))
        #expect(!rules.allows(path: "/page.htm"))
        #expect(!rules.allows(path: "/other"))
        #expect(rules.allows(path: "/folder/public"))
        #expect(!rules.allows(path: "/folder/private/x"))
    }

    @Test func allowWinsATieWithDisallowWhateverTheOrder() {
        #expect(rules("Disallow: /page\nAllow: /page").allows(path: "/page"))
        #expect(rules("Allow: /page\nDisallow: /page").allows(path: "/page"))
        #expect(rules("Disallow: /p*ge\nAllow: /pa*e").allows(path: "/page"))
    }

    @Test func emptyDisallowIsNoRule() {
        let rules = rules("Disallow:\n")
        #expect(rules.allows(path: "/"))
        #expect(rules.allows(path: "/anything"))
    }

    @Test func emptyDisallowDoesNotOverrideARealOne() {
        #expect(!rules("Disallow:\nDisallow: /x").allows(path: "/x"))
    }

    @Test func queryIsPartOfThePathMatched() {
        let rules = rules("Disallow: /search?q=")
        #expect(!rules.allows(path: "/search?q=cats"))
        #expect(rules.allows(path: "/search"))
    }

    @Test func emptyPathMeansRoot() {
        #expect(!rules("Disallow: /$").allows(path: ""))
        #expect(!rules("Disallow: /$").allows(path: "/"))
        #expect(rules("Disallow: /$").allows(path: "/?x=1"))
    }

    @Test(arguments: ["/robots.txt", "/robots.txt?refresh=1"])
    func robotsTxtItselfIsAlwaysAllowed(path: String) {
        #expect(rules("Disallow: /").allows(path: path))
        #expect(RobotsRules.disallowAll.allows(path: path))
        #expect(!RobotsRules.disallowAll.allows(path: "/robots.txt.bak"))
    }

    @Test func defaultRulesAllowEverything() {
        #expect(RobotsRules().allows(path: "/anything"))
        #expect(RobotsRules().crawlDelayMilliseconds == nil)
    }

    @Test(.timeLimit(.minutes(1)))
    func manyWildcardsAgainstALongPathFinishQuickly() {
        let rules = rules("Disallow: /*a*a*a*a*a*a*a*a*a*a*b\nDisallow: /*a*a*a*a*a*a*a*a*a*a*a$")
        let longPath = "/" + String(repeating: "a", count: 100_000)
        for _ in 0..<100 {
            #expect(!rules.allows(path: longPath))
            #expect(rules.allows(path: longPath + "c"))
        }
    }
}
