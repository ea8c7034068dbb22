import JSON

/// Header lines as stored: a JSON array of `[name, value]` pairs, in order, repeats kept.
/// Response headers stored before this format were a JSON object (one value per lower-cased
/// name); those rows still decode.
package enum HeaderCoding {
    package static func encode(_ fields: [HeaderField]) -> String {
        guard !fields.isEmpty else { return "[]" }
        var writer = JSONWriter(capacity: 64 * fields.count)
        writer.writeArray(fields) { writer, field in
            writer.writeArray([field.name, field.value]) { writer, text in writer.write(string: text) }
        }
        return writer.text
    }

    /// The lines `encode` wrote (or an older object); empty if `text` is neither.
    package static func decode(_ text: String) -> [HeaderField] {
        guard text != "[]", let value = try? JSONParser.parse(Array(text.utf8)) else { return [] }
        switch value {
        case .array(let pairs):
            return pairs.compactMap { pair in
                guard let items = pair.arrayValue, items.count == 2, let name = items[0].stringValue,
                    let value = items[1].stringValue
                else { return nil }
                return HeaderField(name, value)
            }
        case .object(let members):
            return members.compactMap { name, value in value.stringValue.map { HeaderField(name, $0) } }
        default:
            return []
        }
    }
}
