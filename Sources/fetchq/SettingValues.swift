/// The settings `fetchq serve` was given, as ArgumentParser parsed its command line, read against
/// its environment: a value is the flag's if given, else the variable's, else the default.
struct SettingValues: Sendable {
    let settings: Settings
    let environment: Environment

    init(_ settings: Settings, environment: Environment = Environment()) {
        self.settings = settings
        self.environment = environment
    }

    /// The value of one setting: `try settings.value(\.port)`.
    func value<Value>(_ key: KeyPath<Settings, Setting<Value>>) throws(InvalidValue) -> Value {
        try settings[keyPath: key].value(in: environment)
    }

    /// The values of a repeatable setting: those of every use of its flag, else its variable's.
    func value<Element>(_ key: KeyPath<Settings, [Setting<[Element]>]>) throws(InvalidValue) -> [Element] {
        let uses = settings[keyPath: key]
        // ArgumentParser replaces the default (the setting alone) with the uses given, never none.
        guard let setting = uses.first else { return [] }
        let given = uses.compactMap(\.given).flatMap { $0 }
        return try (given.isEmpty ? setting : setting.given(given)).value(in: environment)
    }

    func value<Definition>(_ key: KeyPath<Settings, Toggle<Definition>>) throws(InvalidValue) -> Bool {
        try settings[keyPath: key].value(in: environment)
    }
}
