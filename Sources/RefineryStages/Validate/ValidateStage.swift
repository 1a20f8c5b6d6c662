import RefineryRecords
import RefinerySpec

/// Stage 1: make every record well-formed or quarantine it with a named reason.
///
/// Checks required fields by kind (a document needs `text`, a chat needs `messages` with an assistant turn and
/// no empty turn), UTF-8 validity (invalid bytes are dropped as `invalid_utf8`, or with `repair: true` kept as
/// U+FFFD and counted), cleans control characters and whitespace, applies NFC, and enforces length bounds in
/// characters (Unicode scalars) and words over the whole record.
///
/// An interaction history (``Interactions``) needs items with as many rewards and timestamps; text bounds do not
/// apply to it.
///
/// Reasons: `missing_text`, `missing_messages`, `inconsistent_interactions`, `invalid_utf8`, `empty`, `empty_turn`, `chat_without_assistant`,
/// `too_short`, `too_long`, `too_few_words`, `too_many_words`, `missing_category`.
/// Events (records kept but changed): `utf8_repaired`, `control_removed`, `whitespace_cleaned`, `nfc_normalized`.
public struct ValidateStage: Stage {
    public let name = "validate"
    public var minCharacters = 1
    public var maxCharacters = 1_000_000
    public var minWords = 1
    public var maxWords = 200_000
    public var repairUTF8 = false
    public var requireAssistant = true
    public var requireCategory = false
    var cleaner = TextCleaner()

    /// The defaults above.
    public init() {}

    /// Reads parameters from the spec: `min_chars`, `max_chars`, `min_words`, `max_words`, `repair`,
    /// `normalize_nfc`, `clean_whitespace`, `strip_control`, `require_assistant`, `require_category`.
    public init(parameters: SpecNode) throws {
        let table = try parameters.table(allowed: [
            "min_chars", "max_chars", "min_words", "max_words", "repair", "normalize_nfc", "clean_whitespace",
            "strip_control", "require_assistant", "require_category",
        ])
        minCharacters = try table.optional("min_chars")?.int() ?? minCharacters
        maxCharacters = try table.optional("max_chars")?.int() ?? maxCharacters
        minWords = try table.optional("min_words")?.int() ?? minWords
        maxWords = try table.optional("max_words")?.int() ?? maxWords
        repairUTF8 = try table.optional("repair")?.bool() ?? repairUTF8
        requireAssistant = try table.optional("require_assistant")?.bool() ?? requireAssistant
        requireCategory = try table.optional("require_category")?.bool() ?? requireCategory
        cleaner.normalizeNFC = try table.optional("normalize_nfc")?.bool() ?? true
        cleaner.cleanWhitespace = try table.optional("clean_whitespace")?.bool() ?? true
        cleaner.stripControl = try table.optional("strip_control")?.bool() ?? true
        for (key, value) in [("min_chars", minCharacters), ("max_chars", maxCharacters), ("min_words", minWords), ("max_words", maxWords)]
            where value < 0 {
            throw try table.require(key).error("\(key) must be at least 0, found \(value)")
        }
        // Point at whichever of the two keys the spec sets.
        if minCharacters > maxCharacters {
            let at = table.optional("min_chars") ?? table.optional("max_chars") ?? parameters
            throw at.error("min_chars (\(minCharacters)) is above max_chars (\(maxCharacters))")
        }
        if minWords > maxWords {
            let at = table.optional("min_words") ?? table.optional("max_words") ?? parameters
            throw at.error("min_words (\(minWords)) is above max_words (\(maxWords))")
        }
    }

    public func process(_ record: inout Record, view: inout RecordView, tally: inout StageTally) -> StageDecision {
        if record.utf8Repairs > 0 {
            guard repairUTF8 else {
                return .drop(reason: "invalid_utf8", detail: "\(record.utf8Repairs) invalid UTF-8 sequence(s); set repair: true to keep them as U+FFFD")
            }
            tally.note("utf8_repaired")
        }
        if requireCategory && (record.category ?? "").isEmpty {
            return .drop(reason: "missing_category", detail: "no category on the record or its source")
        }
        var characters = 0
        var words = 0
        var changes = (control: 0, whitespace: false, nfc: false)
        // Cleaned content is put into the record only when it is kept, so rejects show the input as it was.
        var cleanedText: String?
        var cleanedMessages: [Message]?
        func cleaned(_ text: String) -> String {
            let result = cleaner.clean(text)
            characters += result.characters
            words += result.words
            changes.control += result.controlRemoved
            changes.whitespace = changes.whitespace || result.whitespaceChanged
            changes.nfc = changes.nfc || result.nfcChanged
            return result.text
        }
        switch record.kind {
        case .document:
            guard let text = record.text else { return .drop(reason: "missing_text", detail: "a document needs 'text'") }
            cleanedText = cleaned(text)
            if characters == 0 { return .drop(reason: "empty", detail: "text is empty or whitespace only") }
        case .chat:
            guard var messages = record.messages, !messages.isEmpty else {
                // A chat with an empty messages list.
                return .drop(reason: "missing_messages", detail: "a chat needs at least one message")
            }
            var hasAssistant = false
            for i in messages.indices {
                let before = characters
                messages[i].content = cleaned(messages[i].content)
                if characters == before {
                    return .drop(reason: "empty_turn", detail: "messages[\(i)] (\(messages[i].role)) is empty after cleanup")
                }
                if messages[i].role == "assistant" { hasAssistant = true }
            }
            cleanedMessages = messages
            if requireAssistant && !hasAssistant {
                return .drop(reason: "chat_without_assistant", detail: "no assistant turn among \(messages.count) message(s)")
            }
        case .interactions:
            // A history has no text: its checks are its shape; length bounds are for text.
            guard let history = record.interactions, !history.items.isEmpty else {
                return .drop(reason: "empty", detail: "an interaction history needs at least one item")
            }
            guard history.rewards.count == history.items.count, history.timestamps.count == history.items.count else {
                return .drop(reason: "inconsistent_interactions",
                             detail: "\(history.items.count) items, \(history.rewards.count) rewards, \(history.timestamps.count) timestamps")
            }
            return .keep
        }
        if characters < minCharacters {
            return .drop(reason: "too_short", detail: "\(characters) characters, minimum \(minCharacters)")
        }
        if characters > maxCharacters {
            return .drop(reason: "too_long", detail: "\(characters) characters, maximum \(maxCharacters)")
        }
        if words < minWords {
            return .drop(reason: "too_few_words", detail: "\(words) words, minimum \(minWords)")
        }
        if words > maxWords {
            return .drop(reason: "too_many_words", detail: "\(words) words, maximum \(maxWords)")
        }
        // Compared as bytes: Swift's String == treats NFD and NFC forms as equal.
        if let cleanedText, !cleanedText.hasSameUTF8(as: record.text ?? "") {
            record.text = cleanedText
            view.invalidate()
        }
        if let cleanedMessages, !cleanedMessages.elementsEqual(record.messages ?? [], by: { $0.role == $1.role && $0.content.hasSameUTF8(as: $1.content) }) {
            record.messages = cleanedMessages
            view.invalidate()
        }
        if changes.control > 0 { tally.note("control_removed") }
        if changes.whitespace { tally.note("whitespace_cleaned") }
        if changes.nfc { tally.note("nfc_normalized") }
        return .keep
    }
}
