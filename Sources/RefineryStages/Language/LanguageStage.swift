import RefineryRecords
import RefinerySpec

/// Stage 2: detect each record's language, tag it, and keep the configured languages.
///
/// The detector is ``LanguageModel`` (30 languages, script detection then naive Bayes over character n-grams),
/// run once over the record's text, read in place: detection needs bytes only, so this stage does not build the
/// shared text view (building it costs more than the detection; the stages that need words build it). A chat is
/// judged on its assistant turns together — what a model is trained to produce, and the target language of a
/// translation pair — or on all its turns when it has no assistant text. Every record gets `scores.lang`: the
/// detector's confidence in its own answer, in [0, 1] (0 for text it cannot place). Interaction histories have
/// no text and pass untouched.
///
/// What `lang` becomes:
/// - no declared language (the record or its source has no `lang`): the detected language, or `und` when the
///   confidence is below `min_confidence` (or the text has no letters, or is in a script the model does not cover);
/// - a declared language the detection agrees with (compared by primary subtag: `pt-BR` agrees with `pt`, `no`
///   with `nb`), or a detection that is `und`: the declared language, unchanged;
/// - a declared language the detection confidently contradicts: event `declared_lang_mismatch`, then with
///   `on_mismatch: drop` the record is dropped (`declared_lang_mismatch`); with `tag` (the default) it is kept,
///   with the declared language in `lang` and the detected one in `meta.lang_detected` — a file's declared
///   language is usually right for the file while a single line can be a quote, a name or a credit in another
///   language; with `overwrite_declared: true` the detected language goes to `lang` and the declared one to
///   `meta.lang_declared` (event `declared_lang_overwritten`);
/// - a declared language the model does not know (`ca`, `sr`): kept as declared, event `declared_lang_unchecked`.
///
/// Then, when `keep` is set, a record whose `lang` (primary subtag) is not in it is dropped as
/// `language_not_kept`; `und` is kept only when listed. `keep` lists two-letter codes (any region or script subtag,
/// `pt-BR`, is cut to the primary one) and `und`; another code (`eng`) is a spec error naming the model's codes.
///
/// Parameters: `keep` (language codes, default all), `min_confidence` (default 0.5), `on_mismatch` (`tag` |
/// `drop`), `overwrite_declared` (default false), `max_bytes` (only the first this many bytes of a record are
/// read, default 64KiB: the language of a long document is clear long before that).
/// Events: `undetermined`, `declared_lang_mismatch`, `declared_lang_overwritten`, `declared_lang_unchecked`.
public struct LanguageStage: Stage {
    /// What to do with a record whose declared language the detection contradicts.
    public enum MismatchAction: String, Sendable, CaseIterable {
        /// Keep it, count the event, record the other language in `meta`.
        case tag
        /// Drop it with reason `declared_lang_mismatch`.
        case drop
    }

    public let name = "lang"
    /// Languages to keep (two-letter primary subtags, or `und`); `nil` keeps every record.
    public var keep: Set<String>?
    /// Below this confidence a detection counts as `und`.
    public var minConfidence = 0.5
    public var onMismatch = MismatchAction.tag
    public var overwriteDeclared = false
    /// Bytes of a record's text the detector reads.
    public var maxBytes = 64 * 1024
    public let model: LanguageModel

    /// A stage with the defaults and the bundled model.
    /// - Throws: ``RefineryError`` when the bundled model cannot be loaded.
    public init(model: LanguageModel? = nil) throws {
        self.model = try model ?? LanguageModel.bundled()
    }

    /// Reads the parameters from the spec (see the type's documentation).
    /// - Throws: ``RefineryError`` at the offending key, or when the bundled model cannot be loaded.
    public init(parameters: SpecNode) throws {
        let table = try parameters.table(allowed: ["keep", "min_confidence", "on_mismatch", "overwrite_declared", "max_bytes"])
        try self.init()
        if let node = table.optional("keep") {
            // Codes a record's lang can hold: the model's, `und`, or another two-letter code a source may declare
            // (`ca`, kept as declared). Anything else (`eng`, `english`) matches no record, so the list would silently
            // drop every record as language_not_kept.
            var codes: Set<String> = []
            for item in (try? node.list()) ?? [node] {
                let code = try item.string()
                let normalized = Self.primarySubtag(code)
                let twoLetters = normalized.count == 2 && normalized.allSatisfy { ("a"..."z").contains($0) }
                guard normalized == "und" || model.languages.contains(normalized) || twoLetters else {
                    throw item.error("unknown language '\(code)' in keep: records carry two-letter ISO 639-1 codes, those the model "
                        + "detects (\(model.languages.joined(separator: ", "))) or another a source declares (such as ca), or und "
                        + "for text it cannot place")
                }
                codes.insert(normalized)
            }
            keep = codes
        }
        if let node = table.optional("min_confidence") {
            minConfidence = try node.double()
            guard (0...1).contains(minConfidence) else { throw node.error("min_confidence must be between 0 and 1, found \(minConfidence)") }
        }
        if let node = table.optional("on_mismatch") {
            let text = try node.string()
            guard let action = MismatchAction(rawValue: text) else {
                throw node.error("on_mismatch must be one of \(MismatchAction.allCases.map(\.rawValue).joined(separator: ", ")), found '\(text)'")
            }
            onMismatch = action
        }
        overwriteDeclared = try table.optional("overwrite_declared")?.bool() ?? overwriteDeclared
        if let node = table.optional("max_bytes") {
            maxBytes = try node.byteSize()
            guard maxBytes > 0 else { throw node.error("max_bytes must be positive") }
        }
    }

    public func process(_ record: inout Record, view: inout RecordView, tally: inout StageTally) -> StageDecision {
        // The model needs bytes only: it reads the record's own UTF-8 in place. Building the shared TextView here
        // (words, lines, paragraphs) would cost more than detection itself; the stages that need it build it.
        let guess: LanguageGuess
        switch record.kind {
        case .interactions:
            return .keep  // no text: nothing to detect, nothing to filter
        case .document:
            guess = model.identify(record.text ?? "", maxBytes: maxBytes, posteriors: false)
        case .chat:
            // The assistant's turns are what a model is trained to produce (the loss is masked to them), and in a
            // translation pair they are the declared target language while the prompt is the source language.
            let messages = record.messages ?? []
            let assistant = messages.lazy.filter { $0.role == "assistant" }.map(\.content)
            guess = assistant.contains(where: { !$0.isEmpty })
                ? model.identify(parts: assistant, maxBytes: maxBytes, posteriors: false)
                : model.identify(parts: messages.lazy.map(\.content), maxBytes: maxBytes, posteriors: false)
        }
        record.setScore("lang", guess.score)
        let detected = guess.score >= minConfidence && guess.lang != "und" ? guess.lang : "und"
        if detected == "und" { tally.note("undetermined") }
        let declared = record.lang.flatMap { $0.isEmpty ? nil : $0 }
        if let declared {
            let declaredCode = Self.primarySubtag(declared)
            if !model.languages.contains(declaredCode) {
                tally.note("declared_lang_unchecked")
            } else if detected != "und" && detected != declaredCode {
                tally.note("declared_lang_mismatch")
                if onMismatch == .drop {
                    return .drop(reason: "declared_lang_mismatch",
                                 detail: "declared \(declared), detected \(detected) (confidence \(Self.format(guess.score)))")
                }
                if overwriteDeclared {
                    record.lang = detected
                    Self.setMeta(&record, "lang_declared", declared)
                    tally.note("declared_lang_overwritten")
                } else {
                    Self.setMeta(&record, "lang_detected", detected)
                }
            }
        } else {
            record.lang = detected
        }
        if let keep {
            let lang = record.lang ?? "und"
            if !keep.contains(Self.primarySubtag(lang)) {
                let how = declared != nil && lang == declared ? "declared" : "detected"
                return .drop(reason: "language_not_kept",
                             detail: "\(how) \(lang), detector says \(guess.lang) (confidence \(Self.format(guess.score))); keeping \(keep.sorted().joined(separator: ", "))")
            }
        }
        return .keep
    }

    /// `pt-BR` → `pt`, `zh_Hant` → `zh`, `EN` → `en`; the legacy codes `no`, `iw`, `in` → `nb`, `he`, `id`.
    static func primarySubtag(_ code: String) -> String {
        switch LanguageCode.primary(code) ?? "" {
        case "no", "nob": return "nb"
        case "iw": return "he"
        case "in": return "id"
        case let primary: return primary
        }
    }

    static func setMeta(_ record: inout Record, _ key: String, _ value: String) {
        if let i = record.meta.firstIndex(where: { $0.key == key }) {
            record.meta[i].value = .string(value)
        } else {
            record.meta.append((key, .string(value)))
        }
    }

    static func format(_ score: Double) -> String {
        let scaled = (score * 1000).rounded() / 1000
        return "\(scaled)"
    }
}
