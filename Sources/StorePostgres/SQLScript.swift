import Foundation

/// A migration file split into the statements it holds, for PostgreSQL's extended protocol, which
/// takes one statement per query. A `;` ends a statement unless it is inside a quoted string, a
/// quoted name, a `$$`-quoted function body or a `--` comment.
enum SQLScript {
    static func statements(_ script: String) -> [String] {
        var statements: [String] = []
        var current: [Character] = []
        var inString = false
        var inName = false
        var inBody = false
        var inComment = false
        var previous: Character = " "
        for character in script {
            defer { previous = character }
            if inComment {
                if character == "\n" { inComment = false }
                continue
            }
            if !inString, !inName, !inBody, previous == "-", character == "-" {
                current.removeLast()
                inComment = true
                continue
            }
            switch character {
            case "'" where !inName && !inBody: inString.toggle()
            case "\"" where !inString && !inBody: inName.toggle()
            case "$" where !inString && !inName && previous == "$": inBody.toggle()
            case ";" where !inString && !inName && !inBody:
                append(current, to: &statements)
                current = []
                continue
            default: break
            }
            current.append(character)
        }
        append(current, to: &statements)
        return statements
    }

    private static func append(_ characters: [Character], to statements: inout [String]) {
        let statement = String(characters).trimmingCharacters(in: .whitespacesAndNewlines)
        if !statement.isEmpty { statements.append(statement) }
    }
}
