/// Why fetchq cannot start with the settings it was given. Each names the flag or the environment
/// variable at fault and, where there is one, the value.
enum SettingError: Error, Equatable, CustomStringConvertible {
    /// A flag's or a variable's value is not one the setting takes.
    case invalidValue(source: String, value: String, expected: String)
    case unknownOption(String)
    case missingValue(flag: String)
    /// A switch, which takes no value, was given one (`--insecure-no-auth=1`).
    case valueNotTaken(flag: String, value: String)
    case unexpectedArgument(String)

    var description: String {
        switch self {
        case .invalidValue(let source, let value, let expected):
            "invalid value \"\(value)\" for \(source): expected \(expected)"
        case .unknownOption(let flag): "unknown option \(flag)"
        case .missingValue(let flag): "\(flag) needs a value"
        case .valueNotTaken(let flag, let value): "\(flag) takes no value (given \"\(value)\")"
        case .unexpectedArgument(let argument): "unexpected argument \"\(argument)\""
        }
    }
}

/// A text that is not a value of the kind asked for; the setting reading it adds which flag or
/// variable it came from.
struct InvalidValue: Error, CustomStringConvertible {
    let text: String
    let expected: String

    var description: String { "expected \(expected)" }
}
