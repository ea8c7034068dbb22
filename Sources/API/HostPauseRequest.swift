import JSON
import Store

/// The input of `POST /v1/hosts/{host}/pause` and `/resume`, checked: the host as `GET /v1/hosts`
/// names it, and when its pause ends (`until` or `for_ms`, exactly one).
enum HostPauseRequest {
    /// The longest pause, in milliseconds: 365 days, for `for_ms` and `until` alike.
    static let maxMillis: Int64 = 31_536_000_000

    /// `text` if it is a `host[:port]` as tasks are grouped by: a lower-case host name, an IPv4
    /// literal or a bracketed IPv6 literal, and an optional port from 1 to 65535.
    static func host(_ text: String) throws(Problem) -> String {
        guard isHostAndPort(text) else {
            throw Problem.invalidField(
                "host",
                "The host must be `host[:port]` as GET /v1/hosts lists it: a lower-case host name or IP literal,"
                    + " and an optional port from 1 to 65535 (URL-encode the `:`).")
        }
        return text
    }

    /// When a pause asked for at `now` with `body` ends, in epoch milliseconds.
    static func until(_ body: [UInt8], now: Int64) throws(Problem) -> Int64 {
        let document: JSONValue
        do {
            document = try JSONParser.parse(body)
        } catch let error as JSONSyntaxError {
            throw Problem.malformedJSON(error)
        } catch {
            throw Problem.invalidField("body", "The body must be a JSON object.")
        }
        guard case .object(let members) = document else {
            throw Problem.invalidField("body", "The body must be a JSON object, not \(document.typeName).")
        }
        if let unknown = members.first(where: { $0.0 != "until" && $0.0 != "for_ms" }) {
            throw Problem.invalidField(unknown.0, "Unknown field `\(unknown.0)`: give `until` or `for_ms`.")
        }
        switch (document["until"], document["for_ms"]) {
        case (let until?, nil):
            guard case .string(let text) = until, let millis = SubmissionParser.parseTimestamp(text) else {
                throw Problem.invalidField("until", "`until` must be an RFC 3339 time such as 2026-01-02T03:04:05Z.")
            }
            guard millis > now else { throw Problem.invalidField("until", "`until` must be in the future.") }
            guard millis - now <= maxMillis else {
                throw Problem.invalidField("until", "`until` is more than 365 days ahead.")
            }
            return millis
        case (nil, let duration?):
            guard case .integer(let millis) = duration, (1...maxMillis).contains(Int64(millis)) else {
                throw Problem.invalidField(
                    "for_ms", "`for_ms` must be an integer from 1 to \(maxMillis) (milliseconds).")
            }
            return now + Int64(millis)
        case (nil, nil):
            throw Problem.invalidField("until", "Give `until` (an RFC 3339 time) or `for_ms` (milliseconds).")
        case (_?, _?):
            throw Problem.invalidField("for_ms", "Give `until` or `for_ms`, not both.")
        }
    }

    private static func isHostAndPort(_ text: String) -> Bool {
        let name: Substring
        let port: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return false }
            name = text[...close]
            let rest = text[text.index(after: close)...]
            guard rest.isEmpty || rest.first == ":" else { return false }
            port = rest.isEmpty ? nil : rest.dropFirst()
        } else if let colon = text.firstIndex(of: ":") {
            (name, port) = (text[..<colon], text[text.index(after: colon)...])
        } else {
            (name, port) = (Substring(text), nil)
        }
        if let port {
            guard !port.isEmpty, port.count <= 5, port.first != "0", port.allSatisfy(\.isASCIIDigit),
                let number = Int(port), (1...65535).contains(number)
            else { return false }
        }
        return name.hasPrefix("[") ? isIPv6Literal(name) : isHostName(name)
    }

    /// Dot-separated labels of 1 to 63 lower-case letters, digits and hyphens, no label starting or
    /// ending with a hyphen, 253 characters at most (an IPv4 literal is one such name).
    private static func isHostName(_ name: Substring) -> Bool {
        guard !name.isEmpty, name.count <= 253 else { return false }
        return name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.count <= 63 && label.first != "-" && label.last != "-"
                && label.allSatisfy { $0.isASCIIDigit || ("a"..."z").contains($0) || $0 == "-" }
        }
    }

    /// `[` hex digits, colons and dots (an embedded IPv4) `]`, with at least two colons.
    private static func isIPv6Literal(_ name: Substring) -> Bool {
        guard name.count > 2, name.hasPrefix("["), name.hasSuffix("]") else { return false }
        let inner = name.dropFirst().dropLast()
        return inner.count <= 45 && inner.filter { $0 == ":" }.count >= 2
            && inner.allSatisfy { $0.isASCIIDigit || ("a"..."f").contains($0) || $0 == ":" || $0 == "." }
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
