/// One setting: its flag, its environment variable, its default, the values it takes and its help.
/// ArgumentParser finds its flag on the command line (`@Option(.integer(…)) var port: Setting<Int>`)
/// and keeps the texts given; `value(in:)` reads them, else the variable's, else the default.
struct Setting<Value: Sendable>: Sendable {
    let flag: String
    let variable: String
    let defaultValue: Value
    /// The default as `--help` and the README show it.
    let shownDefault: String
    /// The values taken, when worth saying (`allowed: 0 to 65535`).
    let accepted: String?
    let summary: String
    let valueName: String
    /// Whether the flag may be given several times and the variable holds the values comma-separated.
    let isList: Bool
    /// Reads the texts given: the last value of an option's flag, or its variable's; each value of a
    /// repeatable flag, or each comma-separated value of its variable.
    let read: @Sendable ([String]) throws(InvalidValue) -> Value
    /// The texts the flag was given on the command line; nil when it was not given.
    var given: [String]? = nil

    var help: String {
        "\(summary) (env: \(variable), default: \(shownDefault)\(accepted.map { ", \($0)" } ?? ""))"
    }

    /// The flag's name without its dashes, as ArgumentParser takes it.
    var name: String { String(flag.drop { $0 == "-" }) }

    /// This setting with `texts` given by its flag.
    func given(_ texts: [String]) -> Setting {
        var setting = self
        setting.given = texts
        return setting
    }

    /// The value: the flag's if given, else the variable's, else the default. A bad value throws,
    /// naming the flag or the variable it came from.
    func value(in environment: Environment) throws(InvalidValue) -> Value {
        if let given { return try value(of: given, from: flag) }
        guard let text = environment.string(variable) else { return defaultValue }
        return try value(of: isList ? text.split(separator: ",").map(String.init) : [text], from: variable)
    }

    private func value(of texts: [String], from source: String) throws(InvalidValue) -> Value {
        do {
            return try read(texts)
        } catch {
            throw InvalidValue(text: error.text, expected: error.expected, source: source)
        }
    }
}

extension Setting {
    /// A setting that takes one value.
    static func option(
        _ flag: String, _ variable: String, default value: Value, shown: String? = nil, accepted: String? = nil,
        valueName: String, help: String, parse: @escaping @Sendable (String) throws(InvalidValue) -> Value
    ) -> Setting {
        Setting(
            flag: flag, variable: variable, defaultValue: value, shownDefault: shown ?? "\(value)",
            accepted: accepted, summary: help, valueName: valueName, isList: false,
            read: { texts throws(InvalidValue) in try parse(texts.last ?? "") })
    }

    /// A setting that takes a list, one value per use of its flag.
    static func repeatable<Element: Sendable>(
        _ flag: String, _ variable: String, valueName: String, help: String,
        parse: @escaping @Sendable (String) throws(InvalidValue) -> Element
    ) -> Setting where Value == [Element] {
        Setting(
            flag: flag, variable: variable, defaultValue: [], shownDefault: "none",
            accepted: "repeatable; the variable takes them comma-separated", summary: help, valueName: valueName,
            isList: true,
            read: { texts throws(InvalidValue) in
                var values: [Element] = []
                for text in texts { values.append(try parse(text)) }
                return values
            })
    }
}

extension Setting where Value == Int {
    static func integer(
        _ flag: String, _ variable: String, default value: Int, in range: ClosedRange<Int>, shown: String? = nil,
        help: String
    ) -> Setting {
        .option(
            flag, variable, default: value, shown: shown,
            accepted: "allowed: \(range.lowerBound) to \(range.upperBound)",
            valueName: "n", help: help,
            parse: { text throws(InvalidValue) in try SettingValue.integer(text, in: range) })
    }
}

extension Setting where Value == Bool {
    /// A switch: off unless its flag is given (`Toggle`) or its variable says yes.
    static func toggle(_ flag: String, _ variable: String, help: String) -> Setting {
        Setting(
            flag: flag, variable: variable, defaultValue: false, shownDefault: "off",
            accepted: "the variable 1, true or yes, or 0, false or no", summary: help, valueName: "", isList: false,
            read: { texts throws(InvalidValue) in try SettingValue.yesOrNo(texts.last ?? "") })
    }
}
