import TestSupport
import Testing

@testable import API

/// The submission parser's byte-by-byte reading of plain http(s) URLs against URLComponents': where
/// the fast reading answers, it answers what URLComponents does; everything else takes the slow way.
@Suite struct SubmissionURLTests {
    static let typical = [
        "http://127.0.0.1:8089/1k.txt?m=12345", "https://example.com/", "http://Example.COM:8080/a/b?c=d&e=f",
        "https://a-b.c-d.example/path;p=1/%7Euser/x.html?q=a+b%20c&r=~!$'()*,", "http://localhost",
        "HTTPS://api.example.org?x=1", "http://10.0.0.1:65535/", "http://host:080/",
    ]

    @Test func typicalURLsTakeTheFastWayAndAgreeWithURLComponents() {
        for url in Self.typical {
            let fast = SubmissionParser.plainHTTPURL(url)
            #expect(fast != nil, "\(url)")
            let slow = SubmissionParser.parsedHTTPURL(url)
            #expect(fast?.hostAndPort == slow?.hostAndPort && fast?.host == slow?.host, "\(url)")
        }
    }

    func pick(_ pieces: [String], _ random: inout SeededRandom) -> String {
        pieces[Int.random(in: 0..<pieces.count, using: &random)]
    }

    @Test func theFastWayNeverDisagreesWithURLComponents() {
        var random = SeededRandom(seed: 15)
        // Valid pieces weigh more, so that many of the URLs are plain enough for the fast way.
        let schemes = ["http", "https", "http", "https", "HTTP", "hTtPs", "ftp", "htt", "httpx", "http:", ""]
        let separators = ["://", "://", "://", "://", "://", ":/", "//", ":///", "://@", "://user@", "://u:p@"]
        let hostPieces = [
            "a", "Z", "0", "9", "-", ".", "..", "a.", "b.", "Ex.", "a1", "a", "b", "c", "9", "xn--", "--", "_", "~",
            "%41", "%", "[", "]", "::1", "é", " ", "@",
            "example", "com", "127", "1", "ab-cd", String(repeating: "a", count: 63), String(repeating: "b", count: 64),
        ]
        let ports = ["", ":", ":0", ":1", ":80", ":080", ":65535", ":65536", ":123456", ":8a", "::80", ":-1"]
        let restPieces = [
            "", "/", "?", "#", "/a", "/b", "/c", "?q=1", "/x_y", "/a/b", "=", "/", "?", "?q=1", "&", "=", "%20", "%2f",
            "%zz", "%4", "%", " ", "\t", "é", "<", ">", "\"",
            "{", "}", "|", "\\", "^", "`", "[", "]", "~", "!", "$", "'", "(", ")", "*", "+", ",", ";", ":", "@",
            "//", "/..", "/./", "#frag", "?a#b", "\u{7F}", "\u{01}",
        ]
        var fastCount = 0
        for _ in 0..<50_000 {
            var url = pick(schemes, &random) + pick(separators, &random)
            for _ in 0..<Int.random(in: 0...4, using: &random) { url += pick(hostPieces, &random) }
            url += pick(ports, &random)
            for _ in 0..<Int.random(in: 0...5, using: &random) { url += pick(restPieces, &random) }
            guard let fast = SubmissionParser.plainHTTPURL(url) else { continue }
            fastCount += 1
            let slow = SubmissionParser.parsedHTTPURL(url)
            #expect(slow?.hostAndPort == fast.hostAndPort && slow?.host == fast.host, "\(url)")
        }
        // Near misses of plain URLs: valid labels, ports and paths with an odd piece here and there.
        let labels = ["a", "Ex", "b-c", "0", "127", "xn--d", "a--b", "-a", "a-", "", "é", "a_b", "%61"]
        let plainRest = ["/", "/a", "?q=1&r=2", "/%7E", "/a;b", "/%zz", "/ ", "#f", "/é", "/<", "/~!$'()*+,;=:@"]
        for _ in 0..<50_000 {
            var url = pick(["http://", "https://", "HTTP://", "http:/"], &random)
            url += (0..<Int.random(in: 1...3, using: &random)).map { _ in pick(labels, &random) }.joined(separator: ".")
            url += pick(ports, &random)
            for _ in 0..<Int.random(in: 0...2, using: &random) { url += pick(plainRest, &random) }
            guard let fast = SubmissionParser.plainHTTPURL(url) else { continue }
            fastCount += 1
            let slow = SubmissionParser.parsedHTTPURL(url)
            #expect(slow?.hostAndPort == fast.hostAndPort && slow?.host == fast.host, "\(url)")
        }
        #expect(fastCount > 1_500)
    }
}
