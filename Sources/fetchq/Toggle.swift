import ArgumentParser

/// A switch among the settings: its flag alone turns it on (`--insecure-no-auth`), else its
/// variable says yes or no. Declared as `@OptionGroup var insecureNoAuth: Toggle<InsecureNoAuth>`,
/// since an ArgumentParser flag holds a bare `Bool` and so cannot carry its setting.
struct Toggle<Definition: ToggleDefinition>: ParsableArguments {
    @Flag(name: .customLong(Definition.setting.name), help: ArgumentHelp(Definition.setting.help))
    var isGiven = false

    func value(in environment: Environment) throws(InvalidValue) -> Bool {
        if isGiven { return true }
        return try Definition.setting.value(in: environment)
    }
}
