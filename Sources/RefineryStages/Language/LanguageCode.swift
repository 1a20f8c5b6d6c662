/// Language codes as records and specs write them.
enum LanguageCode {
    /// The primary subtag, lowercased: `pt-BR` → `pt`, `zh_Hant` → `zh`, `EN` → `en`; nil for a code with none (empty,
    /// or only separators). A bare lowercase code, what most records carry, is its own primary subtag: it is returned
    /// as it is, without splitting it into an array and lowercasing a new string for every record.
    static func primary(_ code: String) -> String? {
        if !code.isEmpty, code.utf8.allSatisfy({ $0 >= 0x61 && $0 <= 0x7A }) { return code }
        return code.lowercased().split(whereSeparator: { $0 == "-" || $0 == "_" }).first.map(String.init)
    }
}
