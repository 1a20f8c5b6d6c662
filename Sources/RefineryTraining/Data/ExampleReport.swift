/// Why a record gave no training example.
public struct SkipReason: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// A stable snake_case name, the key in ``ExampleReport/skipped``.
    public let rawValue: String
    /// Creates a reason.
    public init(_ rawValue: String) { self.rawValue = rawValue }
    /// The reason's name.
    public var description: String { rawValue }
    /// Orders reasons by name.
    public static func < (lhs: SkipReason, rhs: SkipReason) -> Bool { lhs.rawValue < rhs.rawValue }

    /// An interaction history (`items`): for recommendation models, not for the language model.
    public static let interactions = SkipReason("interactions")
    /// Neither a `text` string nor a `messages` array.
    public static let noText = SkipReason("no_text")
    /// `messages` holds something other than objects with a string `role` and a string `content`.
    public static let malformedMessages = SkipReason("malformed_messages")
    /// A message's role is not `system`, `user` or `assistant`; the whole chat is skipped rather than trained with a
    /// turn the template cannot render.
    public static let unknownRole = SkipReason("unknown_role")
    /// Nothing to learn: no token is trained on (a chat without an assistant turn, or whose assistant turns are
    /// empty).
    public static let noTargets = SkipReason("no_targets")
}

/// What loading a dataset split for training made of its records: records in = examples + skipped by reason,
/// exactly, and how the examples were cut to the context.
public struct ExampleReport: Codable, Sendable, Equatable, CustomStringConvertible {
    /// Records read.
    public var records = 0
    /// Records that became an example.
    public var examples = 0
    /// Records skipped, by ``SkipReason`` name.
    public var skipped: [String: Int] = [:]
    /// Up to ``maxExampleIDs`` ids of skipped records per reason, the first met.
    public var skippedIDs: [String: [String]] = [:]
    /// Examples longer than the context (`T + 1` tokens), cut into pieces.
    public var splitExamples = 0
    /// Pieces trained on: one per example that fits, the kept pieces of the split ones.
    public var pieces = 0
    /// Pieces of split examples left out because none of their tokens is trained on (a long prompt).
    public var droppedPieces = 0
    /// Tokens in the pieces (a split example's shared boundary tokens count once per piece).
    public var tokens = 0
    /// Trained tokens (targets) in the pieces.
    public var targets = 0

    /// How many skipped record ids are kept per reason.
    public static let maxExampleIDs = 3

    /// An empty report.
    public init() {}

    /// Records skipped for any reason.
    public var skippedTotal: Int { skipped.values.reduce(0, +) }

    /// Whether every record read is accounted for: `records == examples + skippedTotal`.
    public var balances: Bool { records == examples + skippedTotal }

    /// Counts a skipped record.
    /// - Parameters:
    ///   - reason: why.
    ///   - id: the record's id, kept when fewer than ``maxExampleIDs`` are kept for the reason.
    public mutating func skip(_ reason: SkipReason, id: String) {
        skipped[reason.rawValue, default: 0] += 1
        if skippedIDs[reason.rawValue, default: []].count < Self.maxExampleIDs { skippedIDs[reason.rawValue, default: []].append(id) }
    }

    /// Adds another report (ids kept up to the limit, this report's first).
    public mutating func merge(_ other: ExampleReport) {
        records += other.records
        examples += other.examples
        skipped.merge(other.skipped, uniquingKeysWith: +)
        for (reason, ids) in other.skippedIDs {
            skippedIDs[reason] = Array((skippedIDs[reason, default: []] + ids).prefix(Self.maxExampleIDs))
        }
        splitExamples += other.splitExamples
        pieces += other.pieces
        droppedPieces += other.droppedPieces
        tokens += other.tokens
        targets += other.targets
    }

    /// One line: records, examples, skips by reason with example ids, pieces and tokens.
    public var description: String {
        var text = "\(records) records -> \(examples) examples, \(pieces) pieces (\(splitExamples) split, \(droppedPieces) pieces without targets), "
            + "\(tokens) tokens, \(targets) targets"
        for reason in skipped.keys.sorted() {
            text += "; skipped \(reason): \(skipped[reason] ?? 0)"
            if let ids = skippedIDs[reason], !ids.isEmpty { text += " (e.g. \(ids.joined(separator: ", ")))" }
        }
        return text
    }
}
