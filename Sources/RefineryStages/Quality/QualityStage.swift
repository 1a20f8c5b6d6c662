import RefineryRecords
import RefinerySpec

/// Stage 4: a quality score in [0, 1] from documented components (``QualityComponent``), written to
/// `scores.quality`; records below the keep threshold of their category are dropped with the component that
/// decided it in the reason (`low_quality_<component>`) and its measurement in the detail.
///
/// Each component turns one measurement of ``QualitySignals`` into a penalty: 0 while the measurement is in the
/// clean range, 0.15 exactly at the published threshold of the rule it comes from (Gopher, C4, FineWeb), rising to
/// 1 where the text is certainly bad. The score is 1 − the largest penalty, so with the default keep threshold of
/// 0.85 a record is dropped exactly when it breaks one rule, and the score says by how much.
///
/// Rules that need more text than a record has (n-gram repetition under 50 words, line rules under 5 lines, stop
/// words under 10 words) do not apply to it: a clean subtitle window or a good support answer scores high although
/// Gopher's document rules would reject it as short. Word-count minimum and FineWeb's short-line rule are off unless
/// the spec sets them (per category).
///
/// Parameters: `keep` (default 0.85), `min_words` (default 0: off), `disable` (component names), `enable`
/// (`short_lines`), and `categories: {NAME: {keep, min_words, disable, enable}}` overriding them per category.
/// Interaction histories pass untouched. Reasons `low_quality_<component>` (`low_quality_empty` for a text
/// without a single word, scored 0).
public struct QualityStage: Stage {
    public let name = "quality"

    /// The settings of one category (or the defaults).
    struct Settings: Sendable {
        var keep = 0.85
        var minWords = 0
        var disabled: Set<QualityComponent> = [.shortLines]
    }

    var defaults = Settings()
    var byCategory: [String: Settings] = [:]

    public init() {}

    public init(parameters: SpecNode) throws {
        let table = try parameters.table(allowed: ["keep", "min_words", "disable", "enable", "categories"])
        defaults = try Self.settings(table, base: Settings())
        if let categories = table.optional("categories") {
            for (name, node) in try categories.entries() {
                byCategory[name] = try Self.settings(try node.table(allowed: ["keep", "min_words", "disable", "enable"]), base: defaults)
            }
        }
    }

    private static func settings(_ table: SpecTable, base: Settings) throws -> Settings {
        var settings = base
        if let node = table.optional("keep") {
            settings.keep = try node.double()
            guard (0...1).contains(settings.keep) else { throw node.error("must be in [0, 1], found \(settings.keep)") }
        }
        settings.minWords = try table.optional("min_words")?.int() ?? settings.minWords
        for (key, enable) in [("disable", false), ("enable", true)] {
            guard let node = table.optional(key) else { continue }
            for name in try node.stringList() {
                guard let component = QualityComponent(rawValue: name) else {
                    throw node.error("unknown component '\(name)'; known: \(QualityComponent.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                if enable { settings.disabled.remove(component) } else { settings.disabled.insert(component) }
            }
        }
        return settings
    }

    public func process(_ record: inout Record, view: inout RecordView, tally: inout StageTally) -> StageDecision {
        // An interaction history has no text to score.
        if record.kind == .interactions { return .keep }
        let settings = record.category.flatMap { byCategory[$0] } ?? defaults
        let text = view.text(of: record)
        let (score, worst) = Self.score(text, lang: record.lang, settings: settings)
        record.setScore("quality", score)
        guard score >= settings.keep else {
            let why = worst.map { "\($0.component.rawValue): \($0.measurement)" } ?? "no words"
            return .drop(reason: "low_quality_\(worst?.component.rawValue ?? "empty")",
                         detail: "quality \(score) below \(settings.keep)\(record.category.map { " (category \($0))" } ?? ""); \(why)")
        }
        return .keep
    }

    /// The score (rounded to 1e-4) and the component with the largest penalty (nil for a text without words, scored 0).
    static func score(_ text: TextView, lang: String?, settings: Settings) -> (Double, (component: QualityComponent, measurement: String)?) {
        // No word at all (empty, whitespace, only punctuation): nothing to read, scored 0.
        guard text.words.count > 0 else { return (0, nil) }
        let signals = QualitySignals(text, lang: lang.map { String($0.prefix(2)) })
        var worst: (penalty: Double, component: QualityComponent, measurement: String) = (0, .letters, "no rule broken")
        for component in QualityComponent.allCases where !settings.disabled.contains(component) {
            guard let (penalty, measurement) = component.penalty(signals, settings: settings) else { continue }
            if penalty > worst.penalty { worst = (penalty, component, measurement) }
        }
        let score = ((1 - worst.penalty) * 10_000).rounded() / 10_000
        return (score, (worst.component, worst.measurement))
    }
}

/// One rule of the quality score. `penalty` is nil when the rule does not apply to the text.
public enum QualityComponent: String, CaseIterable, Sendable {
    case wordCount = "word_count"
    case wordLength = "word_length"
    case longWords = "long_words"
    case symbols
    case bullets
    case ellipsisLines = "ellipsis_lines"
    case alphabeticWords = "alphabetic_words"
    case stopWords = "stop_words"
    case duplicateLines = "duplicate_lines"
    case duplicateParagraphs = "duplicate_paragraphs"
    case topNgram = "top_ngram"
    case duplicateNgrams = "duplicate_ngrams"
    case terminalPunctuation = "terminal_punctuation"
    case shortLines = "short_lines"
    case boilerplate
    case curlyBraces = "curly_braces"
    case mojibake
    case letters

    /// Penalty for a measurement that is bad when high: 0 up to `fine`, 0.15 at `threshold`, 1 at `bad`.
    static func high(_ value: Double, fine: Double, threshold: Double, bad: Double) -> Double {
        if value <= fine { return 0 }
        if value <= threshold { return 0.15 * (value - fine) / (threshold - fine) }
        return min(1, 0.15 + 0.85 * (value - threshold) / (bad - threshold))
    }

    /// Penalty for a measurement that is bad when low: 0 down to `fine`, 0.15 at `threshold`, 1 at `bad`.
    static func low(_ value: Double, fine: Double, threshold: Double, bad: Double) -> Double {
        high(-value, fine: -fine, threshold: -threshold, bad: -bad)
    }

    static func percent(_ x: Double) -> String { "\((x * 1000).rounded() / 10)%" }

    func penalty(_ s: QualitySignals, settings: QualityStage.Settings) -> (Double, String)? {
        switch self {
        case .wordCount:
            guard settings.minWords > 0, s.words < settings.minWords else { return nil }
            return (0.15 + 0.85 * (1 - Double(s.words) / Double(settings.minWords)), "\(s.words) words, minimum \(settings.minWords)")
        case .wordLength:
            guard s.words >= 10, let mean = s.meanWordLength else { return nil }
            let penalty = max(Self.low(mean, fine: 3.5, threshold: 3, bad: 1.5), Self.high(mean, fine: 9, threshold: 10, bad: 15))
            return (penalty, "mean word length \((mean * 100).rounded() / 100) (Gopher: 3 to 10)")
        case .longWords:
            return (Self.high(s.longWordCharacters, fine: 0.05, threshold: 0.1, bad: 0.5), "\(Self.percent(s.longWordCharacters)) of characters in words over 100 characters")
        case .symbols:
            return (Self.high(s.symbolRatio, fine: 0.05, threshold: 0.1, bad: 0.5), "\((s.symbolRatio * 1000).rounded() / 1000) '#' or ellipses per word (Gopher: 0.1)")
        case .bullets:
            guard let f = s.bulletLines else { return nil }
            return (Self.high(f, fine: 0.8, threshold: 0.9, bad: 1.2), "\(Self.percent(f)) of lines start with a bullet (Gopher: 90%)")
        case .ellipsisLines:
            guard let f = s.ellipsisLines else { return nil }
            return (Self.high(f, fine: 0.2, threshold: 0.3, bad: 0.9), "\(Self.percent(f)) of lines end with an ellipsis (Gopher: 30%)")
        case .alphabeticWords:
            guard s.words >= 5 else { return nil }
            return (Self.low(s.alphabeticWords, fine: 0.9, threshold: 0.8, bad: 0.4), "\(Self.percent(s.alphabeticWords)) of words hold a letter (Gopher: 80%)")
        case .stopWords:
            guard let hits = s.stopWords, hits < 2 else { return nil }
            return (hits == 1 ? 0.2 : 0.6, "\(hits) stop word(s) in \(s.words) words (Gopher: at least 2)")
        case .duplicateLines, .duplicateParagraphs:
            guard let d = self == .duplicateLines ? s.duplicateLines : s.duplicateParagraphs else { return nil }
            let penalty = max(Self.high(d.items, fine: 0.15, threshold: 0.3, bad: 0.8), Self.high(d.characters, fine: 0.1, threshold: 0.2, bad: 0.7))
            let what = self == .duplicateLines ? "lines" : "paragraphs"
            return (penalty, "\(Self.percent(d.items)) of \(what) repeat, \(Self.percent(d.characters)) of their characters (Gopher: 30%, 20%)")
        case .topNgram:
            guard let fractions = s.topNgram else { return nil }
            let thresholds = [0.2, 0.18, 0.16]
            let (i, penalty) = zip(fractions, thresholds).enumerated()
                .map { ($0.offset, Self.high($0.element.0, fine: 0.6 * $0.element.1, threshold: $0.element.1, bad: $0.element.1 + 0.4)) }
                .max { $0.1 < $1.1 }!
            return (penalty, "the top \(i + 2)-gram covers \(Self.percent(fractions[i])) of characters (Gopher: \(Self.percent(thresholds[i])))")
        case .duplicateNgrams:
            guard let fractions = s.duplicateNgrams else { return nil }
            let thresholds = [0.15, 0.14, 0.13, 0.12, 0.11, 0.10]
            let (i, penalty) = zip(fractions, thresholds).enumerated()
                .map { ($0.offset, Self.high($0.element.0, fine: 0.6 * $0.element.1, threshold: $0.element.1, bad: $0.element.1 + 0.4)) }
                .max { $0.1 < $1.1 }!
            return (penalty, "repeated \(i + 5)-grams cover \(Self.percent(fractions[i])) of characters (Gopher: \(Self.percent(thresholds[i])))")
        case .terminalPunctuation:
            guard let f = s.terminalPunctuation else { return nil }
            return (Self.low(f, fine: 0.3, threshold: 0.12, bad: -0.2), "\(Self.percent(f)) of lines end with terminal punctuation (FineWeb: 12%)")
        case .shortLines:
            guard let f = s.shortLines else { return nil }
            return (Self.high(f, fine: 0.5, threshold: 0.67, bad: 1.0), "\(Self.percent(f)) of lines under 30 characters (FineWeb: 67%)")
        case .boilerplate:
            if s.loremIpsum { return (1, "lorem ipsum (C4)") }
            return (Self.high(s.boilerplateLines, fine: 0, threshold: 0.1, bad: 0.5), "\(Self.percent(s.boilerplateLines)) of lines hold policy or cookie boilerplate (C4)")
        case .curlyBraces:
            return (Self.high(s.curlyBraceLines, fine: 0, threshold: 0.05, bad: 0.3), "\(Self.percent(s.curlyBraceLines)) of lines hold '{' (C4: code)")
        case .mojibake:
            return (Self.high(s.mojibakePerThousand, fine: 0, threshold: 1, bad: 10), "\((s.mojibakePerThousand * 10).rounded() / 10) mojibake marks per 1000 characters")
        case .letters:
            return (Self.low(s.letterFraction, fine: 0.6, threshold: 0.5, bad: 0.2), "\(Self.percent(s.letterFraction)) of non-space characters are letters")
        }
    }
}
