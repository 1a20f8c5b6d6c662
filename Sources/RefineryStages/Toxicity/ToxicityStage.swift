import RefineryRecords
import RefinerySpec

/// Stage 5: score abuse and obscenity, write `scores.toxicity`, and drop or tag what passes the threshold.
///
/// The score is ``ToxicityScorer``'s: word lists for 20+ languages matched on normalised words (case, diacritics,
/// leetspeak, masks, repeated letters, spelled-out words and homoglyphs undone, whole words only), combined with a
/// logistic regression over hashed word and character n-grams for English and for text of unknown language. It
/// reads the record's `lang` (set by the `lang` stage or declared by the source) to choose the lists: the record's
/// language and English, or every list when the language is unknown. So put `lang` before this stage.
///
/// A chat is judged on the turns whose role is in `roles` (default: `assistant`, what a model trained on the
/// record learns to say; a support chat whose customer swears is still a good example of an answer), or on all its
/// turns when it has none of those. Tokenising is this stage's own and reads the record's strings in place: the
/// shared text view splits `f*ck`, `$hit` and `f.u.c.k` where the words are, and joins all turns.
///
/// Parameters: `threshold` (default 0.5: the probability of abuse at or above which a record is toxic), `action` (`drop`, the
/// default, or `tag`: keep it and count it), `roles` (default `[assistant]`), and `categories: {NAME: {threshold,
/// action}}` overriding them per category (subtitles of films swear more than support answers may).
/// Reason `toxic` (detail: the score and the listed terms found, masked). Events: `toxic_tagged` (kept above the
/// threshold with `action: tag`), `toxic_terms` (kept records holding a listed term). Interaction histories pass
/// untouched.
public struct ToxicityStage: Stage {
    /// What to do with a record at or above the threshold.
    public enum Action: String, Sendable, CaseIterable {
        case drop
        case tag
    }

    /// The settings of one category (or the defaults).
    struct Settings: Sendable {
        var threshold = 0.5
        var action = Action.drop
    }

    public let name = "toxicity"
    public let scorer: ToxicityScorer
    var defaults = Settings()
    var byCategory: [String: Settings] = [:]
    /// Chat roles whose turns are judged.
    public var roles: Set<String> = ["assistant"]

    /// A stage with the defaults and the shipped lists and model (or the scorer given).
    /// - Throws: ``RefineryError`` when the shipped files cannot be loaded.
    public init(scorer: ToxicityScorer? = nil) throws {
        self.scorer = try scorer ?? ToxicityScorer.bundled()
    }

    /// Reads the parameters from the spec (see the type's documentation).
    /// - Throws: ``RefineryError`` at the offending key, or when the shipped files cannot be loaded.
    public init(parameters: SpecNode, scorer: ToxicityScorer? = nil) throws {
        let table = try parameters.table(allowed: ["threshold", "action", "roles", "categories"])
        try self.init(scorer: scorer)
        defaults = try Self.settings(table, base: Settings())
        if let node = table.optional("roles") {
            let list = try node.stringList()
            guard !list.isEmpty else { throw node.error("roles is empty; leave it out to judge assistant turns") }
            roles = Set(list)
        }
        if let categories = table.optional("categories") {
            for (name, node) in try categories.entries() {
                byCategory[name] = try Self.settings(try node.table(allowed: ["threshold", "action"]), base: defaults)
            }
        }
    }

    private static func settings(_ table: SpecTable, base: Settings) throws -> Settings {
        var settings = base
        if let node = table.optional("threshold") {
            settings.threshold = try node.double()
            guard (0...1).contains(settings.threshold) else {
                throw node.error("threshold must be in [0, 1] (a probability of abuse), found \(settings.threshold)")
            }
        }
        settings.action = try table.optional("action")?.choice(Action.self, named: "action") ?? settings.action
        return settings
    }

    public func process(_ record: inout Record, view: inout RecordView, tally: inout StageTally) -> StageDecision {
        if record.kind == .interactions { return .keep }
        let texts = judgedTexts(of: record)
        let language = record.lang.map(Self.primarySubtag)
        let analysis = tally.scratch.withBuffers(ToxicityBuffers.self) { scorer.analyse(texts, language: language, buffers: &$0) }
        let score = (analysis.score * 10_000).rounded() / 10_000
        record.setScore("toxicity", score)
        let settings = record.category.flatMap { byCategory[$0] } ?? defaults
        if score >= settings.threshold {
            if settings.action == .drop {
                return .drop(reason: "toxic", detail: "toxicity \(score) at or above \(settings.threshold)"
                    + "\(record.category.map { " (category \($0))" } ?? "")"
                    + "; \(Self.describe(analysis.matches, in: texts))")
            }
            tally.note("toxic_tagged")
        }
        if !analysis.matches.isEmpty { tally.note("toxic_terms") }
        return .keep
    }

    /// The strings judged: the text, or the turns of the judged roles (all turns when none has one).
    func judgedTexts(of record: Record) -> [String] {
        if let messages = record.messages {
            let judged = messages.filter { roles.contains($0.role) }.map(\.content)
            return judged.isEmpty ? messages.map(\.content) : judged
        }
        return record.text.map { [$0] } ?? []
    }

    /// `2 listed terms: f**k, s**t` — the first three, masked after their first letter so the detail is not itself
    /// what it reports.
    static func describe(_ matches: [(text: Int, bytes: Range<Int>)], in texts: [String]) -> String {
        guard !matches.isEmpty else { return "no listed term" }
        let shown = matches.prefix(3).map { match -> String in
            let utf8 = Array(texts[match.text].utf8)
            let word = String(decoding: utf8[match.bytes.clamped(to: 0..<utf8.count)], as: UTF8.self)
            guard let first = word.first else { return "" }
            return String(first) + String(repeating: "*", count: max(0, min(word.count - 1, 12)))
        }
        return "\(matches.count) listed term\(matches.count == 1 ? "" : "s"): \(shown.joined(separator: ", "))"
    }

    /// The code's primary subtag (``LanguageCode/primary(_:)``; the whole code, lowercased, when it has none), with
    /// Norwegian (`no`, `nn`) as Bokmål, whose word list the lexicon has.
    static func primarySubtag(_ code: String) -> String {
        let primary = LanguageCode.primary(code) ?? code.lowercased()
        return primary == "no" || primary == "nn" ? "nb" : primary
    }
}
