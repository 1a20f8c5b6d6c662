import RefineryRecords
import RefineryStages

/// What the report reads of a written record, taken from the record itself by the run that writes it: the same
/// values ``RecordSkim`` reads from the record's JSON line (``Record/writeJSON(to:)``), so that a run can tally its
/// kept records as it writes them (``KeptTally/add(_:id:copy:line:limit:)``) instead of reading its shards back.
///
/// The numbers are those the line holds: a score or reward that JSON cannot hold (not finite) is written `null`, and
/// a whole number as an integer (`-0.0` as `0`).
public struct RecordFacts: Sendable, Equatable {
    /// The values of ``MixTally/fields``.
    public var category: String?
    public var source: String?
    public var lang: String?
    /// Whether the record has a text or messages.
    public var hasContent = false
    /// Unicode scalars and words (``ByteLanes``) of the text, or of every message's content.
    public var chars = 0
    public var words = 0
    /// Messages of a chat without a text.
    public var turns: Int?
    /// `scores.quality`, `scores.toxicity`, `scores.lang` and `reward`.
    public var quality: Double?
    public var toxicity: Double?
    public var langScore: Double?
    public var reward: Double?

    /// The facts of `record` as its JSON line will say them.
    public init(_ record: borrowing Record) {
        category = record.category
        source = record.source
        lang = record.lang
        if let text = record.text {
            hasContent = true
            (chars, words) = ByteLanes.measure(text)
        } else if let messages = record.messages {
            hasContent = true
            turns = messages.count
            for message in messages {
                let (scalars, messageWords) = ByteLanes.measure(message.content)
                chars += scalars
                words += messageWords
            }
        }
        // A member given twice is read as its first (``JSONValue`` subscripts).
        quality = Self.written(record.scores.first { $0.key == "quality" }?.value)
        toxicity = Self.written(record.scores.first { $0.key == "toxicity" }?.value)
        langScore = Self.written(record.scores.first { $0.key == "lang" }?.value)
        reward = Self.written(record.reward)
    }

    /// Facts read back from where a run kept them.
    public init(category: String?, source: String?, lang: String?, hasContent: Bool, chars: Int, words: Int, turns: Int?,
                quality: Double?, toxicity: Double?, langScore: Double?, reward: Double?) {
        self.category = category
        self.source = source
        self.lang = lang
        self.hasContent = hasContent
        self.chars = chars
        self.words = words
        self.turns = turns
        self.quality = quality
        self.toxicity = toxicity
        self.langScore = langScore
        self.reward = reward
    }

    /// A number as reading its JSON (``JSONWriter/number(_:)-(Double)``) gives it back.
    static func written(_ value: Double?) -> Double? {
        guard let value, value.isFinite else { return nil }
        return value == value.rounded() && abs(value) < 1e15 ? Double(Int64(value)) : value
    }

    /// The measures ``RecordSkim`` makes of the record's line; `copy`: whether its id marks an up-sampled copy.
    func measures(copy: Bool) -> RecordMeasures {
        var measures = RecordMeasures()
        measures.setKey("category", category)
        measures.setKey("source", source)
        measures.setKey("lang", lang)
        measures.hasContent = hasContent
        measures.chars = chars
        measures.words = words
        measures.turns = turns
        measures.isCopy = copy
        return measures
    }
}
