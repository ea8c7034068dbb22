import Robots
import Testing

/// The example file of RFC 9309 §5.1 and the outcomes the RFC describes for it.
@Suite struct RFCExampleTests {
    private let robots = parseRobots(
        """
        User-Agent: *
        Disallow: *.gif$
        Disallow: /example/
        Allow: /publications/

        User-Agent: foobot
        Disallow:/
        Allow:/example/page.html
        Allow:/example/allowed.gif

        User-Agent: barbot
        User-Agent: bazbot
        Disallow: /example/page.html

        User-Agent: quxbot

        """
    )

    @Test func foobotMayOnlyFetchItsTwoAllowedPages() {
        let rules = robots.rules(for: "foobot")
        #expect(rules.allows(path: "/example/page.html"))
        #expect(rules.allows(path: "/example/allowed.gif"))
        #expect(!rules.allows(path: "/example/other.html"))
        #expect(!rules.allows(path: "/"))
    }

    @Test func barbotAndBazbotShareOneGroup() {
        for token in ["barbot", "bazbot"] {
            let rules = robots.rules(for: token)
            #expect(!rules.allows(path: "/example/page.html"))
            #expect(rules.allows(path: "/example/other.html"))
            #expect(rules.allows(path: "/image.gif"))
        }
    }

    @Test func quxbotHasAnEmptyGroupAndMayFetchEverything() {
        let rules = robots.rules(for: "quxbot")
        #expect(rules.allows(path: "/example/page.html"))
        #expect(rules.allows(path: "/image.gif"))
    }

    @Test func everyOtherCrawlerFollowsTheStarGroup() {
        let rules = robots.rules(for: "fetchq")
        #expect(!rules.allows(path: "/image.gif"))
        #expect(!rules.allows(path: "/example/page.html"))
        #expect(rules.allows(path: "/publications/paper.html"))
        #expect(rules.allows(path: "/image.gif?size=big"))
    }
}
