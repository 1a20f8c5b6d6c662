/// One chat turn, in Hugging Face's `messages` convention.
public struct Message: Sendable, Equatable {
    /// `system`, `user`, `assistant` or `tool`.
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// A user's interaction history, oldest first: what a generative recommender is trained on.
public struct Interactions: Sendable, Equatable {
    /// Item ids, in time order.
    public var items: [String]
    /// One reward per item in [0, 1] (a rating or a watch fraction mapped by the reader).
    public var rewards: [Double]
    /// One time per item, seconds since 1970.
    public var timestamps: [Int64]

    public init(items: [String] = [], rewards: [Double] = [], timestamps: [Int64] = []) {
        self.items = items
        self.rewards = rewards
        self.timestamps = timestamps
    }
}

/// One training example as it flows through the pipeline and is written to a shard.
///
/// A record carries `text` (a plain document), `messages` (a chat) or `interactions` (a user's history). `id` is derived from where the
/// record came from (`source/relative/path:line`), so a rerun on the same inputs gives the same ids.
public struct Record: Sendable, Equatable {
    /// Stable id, `source/path:locator`.
    public var id: String
    /// Name of the spec source that produced this record.
    public var source: String
    public var category: String?
    /// BCP-47-ish language code, when declared by the input or detected by a stage.
    public var lang: String?
    /// Body of a plain document.
    public var text: String?
    /// Turns of a chat.
    public var messages: [Message]?
    /// A scalar reward in [0, 1] (from a rating, a label, a model), used by A-SFT.
    public var reward: Double?
    /// A user's items, rewards and times, for interaction-log records.
    public var interactions: Interactions?
    /// Scores set by stages, in the order the stages set them.
    public var scores: [(key: String, value: Double)]
    /// Counts of redacted PII by type.
    public var pii: [(key: String, value: Int)]
    /// Anything else the input carried, kept as it was.
    public var meta: [(key: String, value: JSONValue)]
    /// Where the record was read; not written to shards (the id already says it), used in rejects.
    public var location: SourceLocation
    /// How many invalid UTF-8 sequences the reader replaced with U+FFFD; the validate stage decides.
    public var utf8Repairs: Int

    public init(
        id: String, source: String, category: String? = nil, lang: String? = nil, text: String? = nil,
        messages: [Message]? = nil, reward: Double? = nil, interactions: Interactions? = nil, scores: [(key: String, value: Double)] = [],
        pii: [(key: String, value: Int)] = [], meta: [(key: String, value: JSONValue)] = [],
        location: SourceLocation, utf8Repairs: Int = 0
    ) {
        self.id = id
        self.source = source
        self.category = category
        self.lang = lang
        self.text = text
        self.messages = messages
        self.reward = reward
        self.interactions = interactions
        self.scores = scores
        self.pii = pii
        self.meta = meta
        self.location = location
        self.utf8Repairs = utf8Repairs
    }

    /// What shape of record this is, which decides its required fields.
    public enum Kind: String, Sendable {
        case document
        case chat
        case interactions
    }

    /// `chat` when the record has messages, `interactions` when it has a history, otherwise `document`.
    public var kind: Kind { messages != nil ? .chat : interactions != nil ? .interactions : .document }

    /// Sets or replaces one score, keeping the order in which scores were first set.
    public mutating func setScore(_ key: String, _ value: Double) {
        if let i = scores.firstIndex(where: { $0.key == key }) {
            scores[i].value = value
        } else {
            scores.append((key, value))
        }
    }

    public static func == (lhs: Record, rhs: Record) -> Bool {
        lhs.id == rhs.id && lhs.source == rhs.source && lhs.category == rhs.category && lhs.lang == rhs.lang
            && lhs.text == rhs.text && lhs.messages == rhs.messages && lhs.reward == rhs.reward && lhs.interactions == rhs.interactions
            && lhs.scores.map(\.key) == rhs.scores.map(\.key) && lhs.scores.map(\.value) == rhs.scores.map(\.value)
            && lhs.pii.map(\.key) == rhs.pii.map(\.key) && lhs.pii.map(\.value) == rhs.pii.map(\.value)
            && JSONValue.object(lhs.meta) == JSONValue.object(rhs.meta)
    }
}
