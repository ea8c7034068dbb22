/// A text that is not a value of the kind asked for. The setting reading it adds the flag or the
/// variable it came from, so that the message names it: `invalid value "70000" for --port: expected
/// an integer from 0 to 65535`.
struct InvalidValue: Error, Equatable, CustomStringConvertible {
    let text: String
    let expected: String
    /// The flag or variable the text came from; empty while a reader has not been told.
    var source = ""

    var description: String {
        source.isEmpty ? "expected \(expected)" : "invalid value \"\(text)\" for \(source): expected \(expected)"
    }
}
