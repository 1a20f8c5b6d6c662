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
        var disabled: Set<QualityComponent> = [.shortLines] {
            didSet { enabled = QualityComponent.allCases.filter { !disabled.contains($0) } }
        }
        /// The components not disabled, in declaration order: what each record is scored by, kept as an array
        /// because a `Set` lookup per component and record cost more than some of the components.
        private(set) var enabled = QualityComponent.allCases.filter { $0 != .shortLines }
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
        let (score, worst) = tally.scratch.withBuffers(QualityBuffers.self) { buffers in
            Self.score(text, lang: record.lang, settings: settings, buffers: &buffers)
        }
        record.setScore("quality", score)
        guard score >= settings.keep else {
            let why = worst.map { "\($0.component.rawValue): \($0.measurement)" } ?? "no words"
            return .drop(reason: "low_quality_\(worst?.component.rawValue ?? "empty")",
                         detail: "quality \(score) below \(settings.keep)\(record.category.map { " (category \($0))" } ?? ""); \(why)")
        }
        return .keep
    }

    /// The score (rounded to 1e-4) and the component with the largest penalty (nil for a text without words, scored
    /// 0). The component's measurement is written out only when the score is below `settings.keep` (it goes into the
    /// drop's detail); for a kept record it is empty.
    static func score(_ text: TextView, lang: String?, settings: Settings,
                      buffers: inout QualityBuffers) -> (Double, (component: QualityComponent, measurement: String)?) {
        // No word at all (empty, whitespace, only punctuation): nothing to read, scored 0.
        guard text.words.count > 0 else { return (0, nil) }
        let signals = QualitySignals(text, lang: lang.map { String($0.prefix(2)) }, buffers: &buffers)
        var worst: (penalty: Double, component: QualityComponent?) = (0, nil)
        for component in settings.enabled {
            guard let penalty = component.penalty(signals, settings: settings) else { continue }
            if penalty > worst.penalty { worst = (penalty, component) }
        }
        let score = ((1 - worst.penalty) * 10_000).rounded() / 10_000
        guard let component = worst.component else { return (score, (.letters, score < settings.keep ? "no rule broken" : "")) }
        return (score, (component, score < settings.keep ? component.measurement(signals, settings: settings) : ""))
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

    /// `x` to two decimals, or to as many more (up to six) as it takes not to read as one of `limits` when it is not
    /// (a mean word length of 2.997 is "2.997", not "3.0", beside a limit of 3).
    static func decimals(_ x: Double, apart limits: [Double]) -> String {
        var scale = 100.0
        var shown = (x * scale).rounded() / scale
        while scale < 1e6 && limits.contains(shown) && shown != x {
            scale *= 10
            shown = (x * scale).rounded() / scale
        }
        return "\(shown)"
    }

    static let topNgramThresholds = [0.2, 0.18, 0.16]
    static let duplicateNgramThresholds = [0.15, 0.14, 0.13, 0.12, 0.11, 0.10]

    /// The n-gram size (as an offset into `fractions`) with the largest penalty, the first of equals, and that
    /// penalty; each fraction is fine up to 0.6 times its threshold and certainly bad 0.4 above it.
    static func worstNgram(_ fractions: [Double], _ thresholds: [Double]) -> (offset: Int, penalty: Double) {
        var worst = (offset: 0, penalty: -Double.infinity)
        for (offset, (fraction, threshold)) in zip(fractions, thresholds).enumerated() {
            let penalty = high(fraction, fine: 0.6 * threshold, threshold: threshold, bad: threshold + 0.4)
            if penalty > worst.penalty { worst = (offset, penalty) }
        }
        return worst
    }

    /// The penalty of this rule for a text, nil when the rule does not apply to it. ``measurement(_:settings:)`` says
    /// in words what it measured: that text is written only for the rule that drops a record, because formatting
    /// the numbers of all eighteen rules for every record cost more than some of the signals.
    func penalty(_ s: QualitySignals, settings: QualityStage.Settings) -> Double? {
        switch self {
        case .wordCount:
            guard settings.minWords > 0, s.words < settings.minWords else { return nil }
            return 0.15 + 0.85 * (1 - Double(s.words) / Double(settings.minWords))
        case .wordLength:
            guard s.words >= 10, let mean = s.meanWordLength else { return nil }
            return max(Self.low(mean, fine: 3.5, threshold: 3, bad: 1.5), Self.high(mean, fine: 9, threshold: 10, bad: 15))
        case .longWords:
            return Self.high(s.longWordCharacters, fine: 0.05, threshold: 0.1, bad: 0.5)
        case .symbols:
            // Like the word-length rule, only from 10 words: one ellipsis in a short subtitle line ("Mario...",
            // "Merci... mon frère.") is punctuation, not a page of "Read more..." links. Short symbol soup has
            // few letters, which `letters` catches.
            guard s.words >= 10 else { return nil }
            return Self.high(s.symbolRatio, fine: 0.05, threshold: 0.1, bad: 0.5)
        case .bullets:
            guard let f = s.bulletLines else { return nil }
            return Self.high(f, fine: 0.8, threshold: 0.9, bad: 1.2)
        case .ellipsisLines:
            guard let f = s.ellipsisLines else { return nil }
            return Self.high(f, fine: 0.2, threshold: 0.3, bad: 0.9)
        case .alphabeticWords:
            guard s.words >= 5 else { return nil }
            return Self.low(s.alphabeticWords, fine: 0.9, threshold: 0.8, bad: 0.4)
        case .stopWords:
            guard let hits = s.stopWords, hits < 2 else { return nil }
            return hits == 1 ? 0.2 : 0.6
        case .duplicateLines, .duplicateParagraphs:
            guard let d = self == .duplicateLines ? s.duplicateLines : s.duplicateParagraphs else { return nil }
            return max(Self.high(d.items, fine: 0.15, threshold: 0.3, bad: 0.8), Self.high(d.characters, fine: 0.1, threshold: 0.2, bad: 0.7))
        case .topNgram:
            guard let fractions = s.topNgram else { return nil }
            return Self.worstNgram(fractions, Self.topNgramThresholds).penalty
        case .duplicateNgrams:
            guard let fractions = s.duplicateNgrams else { return nil }
            return Self.worstNgram(fractions, Self.duplicateNgramThresholds).penalty
        case .terminalPunctuation:
            guard let f = s.terminalPunctuation else { return nil }
            return Self.low(f, fine: 0.3, threshold: 0.12, bad: -0.2)
        case .shortLines:
            guard let f = s.shortLines else { return nil }
            return Self.high(f, fine: 0.5, threshold: 0.67, bad: 1.0)
        case .boilerplate:
            if s.loremIpsum { return 1 }
            return Self.high(s.boilerplateLines, fine: 0, threshold: 0.1, bad: 0.5)
        case .curlyBraces:
            return Self.high(s.curlyBraceLines, fine: 0, threshold: 0.05, bad: 0.3)
        case .mojibake:
            return Self.high(s.mojibakePerThousand, fine: 0, threshold: 1, bad: 10)
        case .letters:
            return Self.low(s.letterFraction, fine: 0.6, threshold: 0.5, bad: 0.2)
        }
    }

    /// What this rule measured in a text, with the published threshold, for the detail of a drop (call it only for a
    /// rule that applies: ``penalty(_:settings:)`` is not nil).
    func measurement(_ s: QualitySignals, settings: QualityStage.Settings) -> String {
        switch self {
        case .wordCount:
            return "\(s.words) words, minimum \(settings.minWords)"
        case .wordLength:
            return "mean word length \(Self.decimals(s.meanWordLength ?? 0, apart: [3, 10])) (Gopher: 3 to 10)"
        case .longWords:
            return "\(Self.percent(s.longWordCharacters)) of characters in words over 100 characters"
        case .symbols:
            return "\((s.symbolRatio * 1000).rounded() / 1000) '#' or ellipses per word (Gopher: 0.1)"
        case .bullets:
            return "\(Self.percent(s.bulletLines ?? 0)) of lines start with a bullet (Gopher: 90%)"
        case .ellipsisLines:
            return "\(Self.percent(s.ellipsisLines ?? 0)) of lines end with an ellipsis (Gopher: 30%)"
        case .alphabeticWords:
            return "\(Self.percent(s.alphabeticWords)) of words hold a letter (Gopher: 80%)"
        case .stopWords:
            return "\(s.stopWords ?? 0) stop word(s) in \(s.words) words (Gopher: at least 2)"
        case .duplicateLines, .duplicateParagraphs:
            let d = (self == .duplicateLines ? s.duplicateLines : s.duplicateParagraphs) ?? (0, 0)
            let what = self == .duplicateLines ? "lines" : "paragraphs"
            return "\(Self.percent(d.items)) of \(what) repeat, \(Self.percent(d.characters)) of their characters (Gopher: 30%, 20%)"
        case .topNgram:
            let fractions = s.topNgram ?? [0, 0, 0]
            let i = Self.worstNgram(fractions, Self.topNgramThresholds).offset
            return "the top \(i + 2)-gram covers \(Self.percent(fractions[i])) of characters (Gopher: \(Self.percent(Self.topNgramThresholds[i])))"
        case .duplicateNgrams:
            let fractions = s.duplicateNgrams ?? [0, 0, 0, 0, 0, 0]
            let i = Self.worstNgram(fractions, Self.duplicateNgramThresholds).offset
            return "repeated \(i + 5)-grams cover \(Self.percent(fractions[i])) of characters (Gopher: \(Self.percent(Self.duplicateNgramThresholds[i])))"
        case .terminalPunctuation:
            return "\(Self.percent(s.terminalPunctuation ?? 0)) of lines end with terminal punctuation (FineWeb: 12%)"
        case .shortLines:
            return "\(Self.percent(s.shortLines ?? 0)) of lines under 30 characters (FineWeb: 67%)"
        case .boilerplate:
            if s.loremIpsum { return "lorem ipsum (C4)" }
            return "\(Self.percent(s.boilerplateLines)) of lines hold policy or cookie boilerplate (C4)"
        case .curlyBraces:
            return "\(Self.percent(s.curlyBraceLines)) of lines hold '{' (C4: code)"
        case .mojibake:
            return "\((s.mojibakePerThousand * 10).rounded() / 10) mojibake marks per 1000 characters"
        case .letters:
            return "\(Self.percent(s.letterFraction)) of non-space characters are letters"
        }
    }
}
