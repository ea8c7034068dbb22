/// A path pattern: literal octets with `*` for any run of octets and a trailing `$` for "end of
/// path"; without `$` it matches any path that starts with a match.
///
/// Matching places each literal segment at its leftmost possible position. That greedy choice is
/// always safe here (an earlier segment end never rules out a later match), so there is no
/// backtracking: the cost is at most path length × pattern length, however many `*` there are.
struct RobotsPattern: Sendable, Equatable {
    /// The literals between `*`s. The first must sit at the start of the path; with `isAnchored`,
    /// the last must sit at its end. Middle segments are never empty.
    private let segments: [[UInt8]]
    private let isAnchored: Bool

    /// Builds from a normalised pattern; a `$` other than the last octet is a literal `$`.
    init(_ pattern: [UInt8]) {
        isAnchored = pattern.last == UInt8(ascii: "$")
        let body = isAnchored ? pattern.dropLast() : pattern[...]
        let pieces = body.split(separator: UInt8(ascii: "*"), omittingEmptySubsequences: false).map(Array.init)
        segments = pieces.enumerated().compactMap { index, piece in
            let isEdge = index == 0 || index == pieces.count - 1
            return isEdge || !piece.isEmpty ? piece : nil
        }
    }

    func matches(_ path: [UInt8]) -> Bool {
        guard let first = segments.first, let last = segments.last else { return true }
        guard path.starts(with: first) else { return false }
        if segments.count == 1 {
            return !isAnchored || path.count == first.count
        }
        var position = first.count
        for segment in segments.dropFirst().dropLast() {
            guard let found = Self.firstOccurrence(of: segment, in: path, from: position) else { return false }
            position = found + segment.count
        }
        if isAnchored {
            return path.count - position >= last.count && path.suffix(last.count).elementsEqual(last)
        }
        return Self.firstOccurrence(of: last, in: path, from: position) != nil
    }

    /// The first index at or after `start` where `needle` occurs in `haystack`.
    private static func firstOccurrence(of needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard haystack.count - start >= needle.count else { return nil }
        guard let head = needle.first else { return start }
        var candidate = start
        let lastCandidate = haystack.count - needle.count
        while candidate <= lastCandidate {
            if haystack[candidate] == head && haystack[candidate..<(candidate + needle.count)].elementsEqual(needle) {
                return candidate
            }
            candidate += 1
        }
        return nil
    }
}
