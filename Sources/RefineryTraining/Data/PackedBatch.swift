/// What a packed batch says about one of its examples.
public struct PackedExample: Sendable, Equatable {
    /// Index of the dataset it came from, in the stream's mixture (0 for a single dataset).
    public var dataset: Int
    /// The record's id.
    public var id: String
    /// The record's reward.
    public var reward: Double?
    /// The record's category.
    public var category: String?
    /// The record's source.
    public var source: String?
    /// Positions of the batch whose target is one of its trained tokens.
    public var targets: Int

    /// Creates the metadata of a packed example.
    public init(dataset: Int, id: String, reward: Double?, category: String?, source: String?, targets: Int) {
        self.dataset = dataset
        self.id = id
        self.reward = reward
        self.category = category
        self.source = source
        self.targets = targets
    }
}

/// Examples packed into `rows` rows of exactly `context` positions each, for next-token prediction without attention
/// across examples. The arrays are flat, `rows * context` long, row-major: position `t` of row `r` is at
/// `r * context + t`.
///
/// An example of `n` tokens takes `n - 1` consecutive positions of one row: position `j` of it has input
/// `tokens[j]` and target `tokens[j + 1]` (or −1 when that token is not trained on). Positions after the last
/// example of a row are padding: input `<|endoftext|>`, target −1, example −1, one segment of their own.
public struct PackedBatch: Sendable, Equatable {
    /// Rows in the batch.
    public let rows: Int
    /// Positions per row (the model's context `T`).
    public let context: Int
    /// Input token id per position.
    public var inputs: [Int32]
    /// Target token id per position; −1 where nothing is trained (a masked-out token, padding).
    public var targets: [Int32]
    /// Position of the input within its own example, from 0 (for learned position embeddings).
    public var positions: [Int32]
    /// Per position, the index within its row where its example (or padding run) starts: position `t` may attend to
    /// position `s` of the same row iff `segmentStarts[t] <= s <= t`.
    public var segmentStarts: [Int32]
    /// Per position, the index of its example in ``examples``; −1 for padding.
    public var exampleIndex: [Int32]
    /// The batch's examples, in packing order.
    public var examples: [PackedExample]

    /// Creates a batch from its arrays.
    public init(rows: Int, context: Int, inputs: [Int32], targets: [Int32], positions: [Int32], segmentStarts: [Int32],
                exampleIndex: [Int32], examples: [PackedExample]) {
        self.rows = rows
        self.context = context
        self.inputs = inputs
        self.targets = targets
        self.positions = positions
        self.segmentStarts = segmentStarts
        self.exampleIndex = exampleIndex
        self.examples = examples
    }

    /// Positions with a target (not −1).
    public var targetCount: Int { targets.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) } }

    /// Whether position `t` of a row may attend to position `s` of the same row.
    /// - Parameters:
    ///   - row: the row, `0..<rows`.
    ///   - t: the attending position, `0..<context`.
    ///   - s: the attended position, `0..<context`.
    public func mayAttend(row: Int, from t: Int, to s: Int) -> Bool {
        Int(segmentStarts[row * context + t]) <= s && s <= t
    }
}
