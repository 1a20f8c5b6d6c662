/// One record as the trainer sees it: its tokens, which of them are trained on, and the metadata the objectives
/// weigh it by.
///
/// `mask[i]` says whether *predicting token i* (from tokens `0..<i`) counts in the loss: for next-token prediction
/// the input at position `t` is `tokens[t]` and its target is `tokens[t + 1]`, trained when `mask[t + 1]`. The first
/// token has no context and is never predicted, so `mask[0]` is always `false`.
public struct TrainingExample: Sendable, Equatable {
    /// The record's `id` (or `shard:line` when it has none); the pieces of a split example share it.
    public var id: String
    /// Token ids.
    public private(set) var tokens: [Int32]
    /// Per token: whether predicting it counts in the loss. Same length as `tokens`.
    public private(set) var mask: [Bool]
    /// The record's `reward`, when it has a numeric one.
    public var reward: Double?
    /// The record's `category`.
    public var category: String?
    /// The record's `source`.
    public var source: String?

    /// Creates an example.
    /// - Parameters:
    ///   - id: the record's id.
    ///   - tokens: token ids.
    ///   - mask: per token, whether predicting it is trained on; `mask[0]` is ignored (set to `false`). Missing
    ///     entries count as `false`, extra ones are dropped.
    ///   - reward: the record's reward.
    ///   - category: the record's category.
    ///   - source: the record's source.
    public init(id: String, tokens: [Int32], mask: [Bool], reward: Double? = nil, category: String? = nil, source: String? = nil) {
        self.id = id
        self.tokens = tokens
        var mask = Array(mask.prefix(tokens.count))
        mask += repeatElement(false, count: tokens.count - mask.count)
        if !mask.isEmpty { mask[0] = false }
        self.mask = mask
        self.reward = reward
        self.category = category
        self.source = source
    }

    /// How many of its tokens are trained on.
    public var targetCount: Int { mask.reduce(0) { $0 + ($1 ? 1 : 0) } }

    /// Packed positions it takes: every token but the last is an input (the last is only a target).
    public var positionCount: Int { max(tokens.count - 1, 0) }

    /// The example cut to fit a context of `context` positions: itself when it has at most `context + 1` tokens,
    /// else consecutive pieces of at most `context + 1` tokens, each starting on the last token of the one before, so
    /// that every token but the first is predicted in exactly one piece (a piece's first token is its context only).
    ///
    /// A piece none of whose tokens is trained on (a long prompt before the answer) is left out; an example with no
    /// trained token at all gives no pieces. (The loaders never build one: they report such records instead.)
    /// - Parameter context: the model's context length `T`, at least 1.
    /// - Returns: the pieces in order, each with this example's id and metadata.
    /// - Complexity: O(`tokens.count`).
    public func pieces(context: Int) -> [TrainingExample] {
        let span = max(context, 1)
        guard tokens.count > span + 1 else { return targetCount > 0 ? [self] : [] }
        var pieces: [TrainingExample] = []
        var start = 0
        while start < tokens.count - 1 {
            let end = min(start + span + 1, tokens.count)
            let piece = TrainingExample(id: id, tokens: Array(tokens[start..<end]), mask: [false] + mask[(start + 1)..<end],
                                        reward: reward, category: category, source: source)
            if piece.targetCount > 0 { pieces.append(piece) }
            start += span
        }
        return pieces
    }
}
