/// The one way text from data reaches the page: every `&`, `<`, `>`, `"` and `'` replaced by its character
/// reference, so a record cannot open a tag, close an attribute or start a script, in element content or in a
/// quoted attribute alike.
enum HTMLEscape {
    /// The text with `&`, `<`, `>`, `"` and `'` escaped.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }
}
