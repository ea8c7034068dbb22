/// The settings one command was given: its command line and its environment. A value is the flag's
/// if given, else the variable's, else the default. Every setting the command takes is checked
/// when this is made, used or not: a bad value throws, naming the flag or variable, and so does a
/// flag the command does not take.
struct SettingValues: Sendable {
    /// The texts of each flag given, by flag; a switch given has none.
    private let given: [String: [String]]
    private let environment: Environment

    init(
        arguments: [String], accepting settings: [any SettingDescription], environment: Environment = Environment()
    ) throws(SettingError) {
        let accepted = Dictionary(settings.map { ($0.flag, $0.form) }, uniquingKeysWith: { first, _ in first })
        var given: [String: [String]] = [:]
        var remaining = arguments[...]
        while let argument = remaining.popFirst() {
            guard argument.hasPrefix("--") else { throw .unexpectedArgument(argument) }
            let parts = argument.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let flag = String(parts[0])
            let attached = parts.count == 2 ? String(parts[1]) : nil
            guard let form = accepted[flag] else { throw .unknownOption(flag) }
            switch form {
            case .toggle:
                if let attached { throw .valueNotTaken(flag: flag, value: attached) }
                given[flag] = []
            case .option, .repeatable:
                // A value is never taken from the next flag: `--port --db x` misses the port.
                guard let text = attached ?? remaining.first, attached != nil || !text.hasPrefix("--") else {
                    throw .missingValue(flag: flag)
                }
                if attached == nil { remaining.removeFirst() }
                given[flag] = form.isRepeatable ? given[flag, default: []] + [text] : [text]
            }
        }
        self.given = given
        self.environment = environment
        for setting in settings { try setting.check(in: self) }
    }

    func value<Value>(_ setting: Setting<Value>) throws(SettingError) -> Value {
        if let texts = given[setting.flag] {
            return try setting.value(of: texts, from: setting.flag)
        }
        if let text = environment.string(setting.variable) {
            let texts = setting.form.isRepeatable ? text.split(separator: ",").map(String.init) : [text]
            return try setting.value(of: texts, from: setting.variable)
        }
        return setting.defaultValue
    }

    /// The value of one of the table's settings: `try settings.value(\.port)`.
    func value<Value>(_ key: KeyPath<Settings, Setting<Value>>) throws(SettingError) -> Value {
        try value(Settings.table[keyPath: key])
    }
}

extension SettingForm {
    var isRepeatable: Bool {
        if case .repeatable = self { return true }
        return false
    }
}
