import Robots
import Testing

@Suite struct GroupingTests {
    @Test func consecutiveUserAgentsShareTheFollowingRules() {
        let robots = parseRobots(
            """
            User-agent: alpha
            User-agent: beta
            Disallow: /shared
            """
        )
        #expect(!robots.rules(for: "alpha").allows(path: "/shared"))
        #expect(!robots.rules(for: "beta").allows(path: "/shared"))
    }

    @Test func userAgentAfterRulesStartsANewGroup() {
        let robots = parseRobots(
            """
            User-agent: alpha
            Disallow: /a
            User-agent: beta
            Disallow: /b
            """
        )
        #expect(robots.rules(for: "alpha").allows(path: "/b"))
        #expect(!robots.rules(for: "alpha").allows(path: "/a"))
        #expect(robots.rules(for: "beta").allows(path: "/a"))
        #expect(!robots.rules(for: "beta").allows(path: "/b"))
    }

    @Test func groupsNamingTheSameAgentAreMerged() {
        let robots = parseRobots(
            """
            User-agent: fetchq
            Disallow: /one

            User-agent: other
            Disallow: /other

            user-agent: FetchQ
            Disallow: /two
            """
        )
        let rules = robots.rules(for: "fetchq")
        #expect(!rules.allows(path: "/one"))
        #expect(!rules.allows(path: "/two"))
        #expect(rules.allows(path: "/other"))
    }

    @Test func unnamedCrawlerFallsBackToTheStarGroup() {
        let robots = parseRobots(
            """
            User-agent: somebot
            Disallow: /somebot

            User-agent: *
            Disallow: /everyone
            """
        )
        let rules = robots.rules(for: "fetchq")
        #expect(!rules.allows(path: "/everyone"))
        #expect(rules.allows(path: "/somebot"))
    }

    @Test func namedGroupReplacesTheStarGroupEntirely() {
        let robots = parseRobots(
            """
            User-agent: *
            Disallow: /

            User-agent: fetchq
            Disallow: /private
            """
        )
        #expect(robots.rules(for: "fetchq").allows(path: "/public"))
        #expect(!robots.rules(for: "otherbot").allows(path: "/public"))
    }

    @Test func noMatchingGroupAndNoStarAllowsEverything() {
        let robots = parseRobots(
            """
            User-agent: somebot
            Disallow: /
            """
        )
        #expect(robots.rules(for: "fetchq").allows(path: "/anything"))
        #expect(parseRobots("").rules(for: "fetchq").allows(path: "/anything"))
    }

    @Test func matchingGroupWithoutRulesAllowsEverythingInsteadOfFallingBack() {
        let robots = parseRobots(
            """
            User-agent: *
            Disallow: /

            User-agent: fetchq
            """
        )
        #expect(robots.rules(for: "fetchq").allows(path: "/page"))
    }

    @Test(arguments: ["fetchq", "FETCHQ", "FetchQ", "fetchq/0.9 (+https://example.com)"])
    func productTokenMatchesCaseInsensitively(token: String) {
        let robots = parseRobots(
            """
            User-agent: FetchQ
            Disallow: /private
            """
        )
        #expect(!robots.rules(for: token).allows(path: "/private"))
    }

    @Test func groupNamingAVersionedAgentMatchesTheBareToken() {
        let robots = parseRobots(
            """
            User-agent: fetchq/1.0
            Disallow: /versioned
            User-agent: fetchq-extra
            Disallow: /extra
            """
        )
        let rules = robots.rules(for: "fetchq")
        #expect(!rules.allows(path: "/versioned"))
        #expect(rules.allows(path: "/extra"))
    }

    @Test func rulesBeforeAnyUserAgentAreIgnored() {
        let robots = parseRobots(
            """
            Disallow: /orphan
            User-agent: *
            Disallow: /kept
            """
        )
        let rules = robots.rules(for: "fetchq")
        #expect(rules.allows(path: "/orphan"))
        #expect(!rules.allows(path: "/kept"))
    }

    @Test(arguments: [
        ("fetchq/0.9 (+https://x)", "fetchq"),
        ("  Fetchq/0.9", "Fetchq"),
        ("fetchq (compatible)", "fetchq"),
        ("fetchq", "fetchq"),
        ("", ""),
    ])
    func productTokenIsTheUserAgentBeforeItsFirstSlashOrSpace(userAgent: String, token: String) {
        #expect(RobotsTxt.productToken(fromUserAgent: userAgent) == token)
    }
}
