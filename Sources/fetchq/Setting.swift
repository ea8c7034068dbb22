/// How a setting is written on the command line, and so how its environment variable is read.
enum SettingForm: Sendable, Equatable {
    /// `--flag VALUE` or `--flag=VALUE`; given twice, the last one counts.
    case option(valueName: String)
    /// `--flag VALUE`, repeatable; the variable holds the values comma-separated.
    case repeatable(valueName: String)
    /// `--flag` alone turns it on; the variable says yes or no.
    case toggle
}

/// What the command-line parser and `--help` need to know of a setting, whatever its value's type.
protocol SettingDescription: Sendable {
    var flag: String { get }
    var variable: String { get }
    var form: SettingForm { get }
    /// The help line: what it does, its variable, its default and the values it takes.
    var help: String { get }
    /// Throws if the value given for this setting, by flag or variable, is not one it takes.
    func check(in values: SettingValues) throws(SettingError)
}

/// One setting: its flag, its environment variable, its default, the values it takes and its help.
/// A setting's value comes from its flag, else its variable, else the default.
struct Setting<Value: Sendable>: SettingDescription {
    let flag: String
    let variable: String
    let form: SettingForm
    let defaultValue: Value
    /// The default as `--help` and the README show it.
    let shownDefault: String
    /// The values taken, when worth saying (`allowed: 0 to 65535`).
    let accepted: String?
    let summary: String
    /// Reads the texts given: the last value of an option's flag, or its variable's; each value of a
    /// repeatable flag, or each comma-separated value of its variable; none for a switch's flag.
    let read: @Sendable ([String]) throws(InvalidValue) -> Value

    var help: String {
        "\(summary) (env: \(variable), default: \(shownDefault)\(accepted.map { ", \($0)" } ?? ""))"
    }

    func check(in values: SettingValues) throws(SettingError) { _ = try values.value(self) }

    /// The value the texts given by `source` (this flag or this variable) mean.
    func value(of texts: [String], from source: String) throws(SettingError) -> Value {
        do {
            return try read(texts)
        } catch {
            throw .invalidValue(source: source, value: error.text, expected: error.expected)
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
            flag: flag, variable: variable, form: .option(valueName: valueName), defaultValue: value,
            shownDefault: shown ?? "\(value)", accepted: accepted, summary: help,
            read: { texts throws(InvalidValue) in try parse(texts.last ?? "") })
    }

    /// A setting that takes a list, one value per use of its flag.
    static func repeatable<Element: Sendable>(
        _ flag: String, _ variable: String, valueName: String, help: String,
        parse: @escaping @Sendable (String) throws(InvalidValue) -> Element
    ) -> Setting where Value == [Element] {
        Setting(
            flag: flag, variable: variable, form: .repeatable(valueName: valueName), defaultValue: [],
            shownDefault: "none", accepted: "repeatable; the variable takes them comma-separated", summary: help,
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
    /// Off unless the flag is given or the variable says yes.
    static func toggle(_ flag: String, _ variable: String, help: String) -> Setting {
        Setting(
            flag: flag, variable: variable, form: .toggle, defaultValue: false, shownDefault: "off",
            accepted: "the variable 1, true or yes, or 0, false or no", summary: help,
            read: { texts throws(InvalidValue) in
                guard let text = texts.last else { return true }
                return try SettingValue.yesOrNo(text)
            })
    }
}
