/// The settings as `--help` lists them: each flag with its value, then its help line indented,
/// wrapped to fit 80 columns (ArgumentParser leaves lines that fit as they are).
enum SettingsHelp {
    static let width = 79
    static let indent = "      "

    static func text(for settings: [any SettingDescription]) -> String {
        let entries = settings.map { setting in
            "  \(usage(of: setting))\n" + wrapped(setting.help, indent: indent)
        }
        return """
            SETTINGS (each can also be set by the environment variable named beside it; a flag wins over \
            the variable, which wins over the default):

            """ + entries.joined(separator: "\n")
    }

    static func usage(of setting: any SettingDescription) -> String {
        switch setting.form {
        case .option(let valueName): "\(setting.flag) <\(valueName)>"
        case .repeatable(let valueName): "\(setting.flag) <\(valueName)> ..."
        case .toggle: setting.flag
        }
    }

    /// `text` in lines of at most `width` columns, each starting with `indent`.
    static func wrapped(_ text: String, indent: String) -> String {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty, indent.count + line.count + 1 + word.count > width {
                lines.append(indent + line)
                line = ""
            }
            line += line.isEmpty ? String(word) : " \(word)"
        }
        if !line.isEmpty { lines.append(indent + line) }
        return lines.joined(separator: "\n")
    }
}
