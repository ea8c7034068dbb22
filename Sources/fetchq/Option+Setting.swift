import ArgumentParser

/// A setting as an ArgumentParser option: its flag, its help and its value name come from the
/// setting; the option keeps the texts given, which the setting reads (`Setting.value(in:)`).
extension Option {
    /// A setting that takes one value: `@Option(.integer("--port", …)) var port: Setting<Int>`.
    init<Wrapped>(_ setting: Setting<Wrapped>) where Value == Setting<Wrapped> {
        self.init(
            wrappedValue: setting, name: .customLong(setting.name),
            help: ArgumentHelp(setting.help, valueName: setting.valueName),
            transform: { text in setting.given([text]) })
    }

    /// A repeatable setting: each use of its flag is one element; none given, the setting alone.
    /// `SettingValues` joins them back into one.
    init<Wrapped>(_ setting: Setting<Wrapped>) where Value == [Setting<Wrapped>] {
        self.init(
            wrappedValue: [setting], name: .customLong(setting.name), parsing: .singleValue,
            help: ArgumentHelp(setting.help, valueName: setting.valueName),
            transform: { text in setting.given([text]) })
    }
}
