import RefineryRecords

/// What the model reads in one forward pass: `rows` packed rows of `context` positions, flat and row-major.
public struct TokenBatch: Sendable, Equatable {
    /// Rows in the batch.
    public var rows: Int
    /// Input token ids.
    public var inputs: [Int32]
    /// Each position's index inside its own document (GPT-2's learned positions restart per packed document).
    public var positions: [Int32]
    /// The row index at which each position's document starts: position `t` attends to `segmentStarts[t]...t`.
    public var segmentStarts: [Int32]
    /// The token to predict at each position, or `−1` where nothing is trained.
    public var targets: [Int32]
    /// Each target's weight in the loss (the objective's per-example weight; ignored where the target is `−1`).
    public var weights: [Float]

    /// A batch; ``validate(for:)`` checks it against a model.
    public init(rows: Int, inputs: [Int32], positions: [Int32], segmentStarts: [Int32], targets: [Int32], weights: [Float]) {
        self.rows = rows
        self.inputs = inputs
        self.positions = positions
        self.segmentStarts = segmentStarts
        self.targets = targets
        self.weights = weights
    }

    /// The model's view of a packed batch, each target weighted by its example's weight (`exampleWeights` indexed
    /// like `batch.examples`; every weight 1 when `nil`).
    public init(_ batch: PackedBatch, exampleWeights: [Double]? = nil) {
        self.init(rows: batch.rows, inputs: batch.inputs, positions: batch.positions, segmentStarts: batch.segmentStarts,
                  targets: batch.targets,
                  weights: batch.exampleIndex.map { i in i < 0 ? 0 : exampleWeights.map { Float($0[Int(i)]) } ?? 1 })
    }

    /// Positions whose target is trained.
    public var targetCount: Int { targets.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) } }

    /// - Throws: ``RefineryError`` (code `internal`) naming the first array or value that does not fit `config`.
    public func validate(for config: GPTConfig) throws {
        let t = config.context
        let count = rows * t
        for (name, array) in [("inputs", inputs), ("positions", positions), ("segment starts", segmentStarts), ("targets", targets)]
        where array.count != count {
            throw RefineryError(.internal, "batch \(name) hold \(array.count) values, expected \(rows) rows × \(t)")
        }
        guard weights.count == count else { throw RefineryError(.internal, "batch weights hold \(weights.count) values, expected \(count)") }
        for i in 0..<count {
            let column = i % t
            guard inputs[i] >= 0 && Int(inputs[i]) < config.vocabularySize,
                  targets[i] >= -1 && Int(targets[i]) < config.vocabularySize else {
                throw RefineryError(.internal, "batch position \(i): token outside the vocabulary of \(config.vocabularySize)")
            }
            guard positions[i] >= 0 && Int(positions[i]) < t,
                  segmentStarts[i] >= 0 && Int(segmentStarts[i]) <= column else {
                throw RefineryError(.internal, "batch position \(i): position or segment start outside the row")
            }
            guard column == 0 || segmentStarts[i] >= segmentStarts[i - 1] else {
                throw RefineryError(.internal, "batch position \(i): segment starts decrease along the row (documents must be packed in order)")
            }
            guard weights[i].isFinite else { throw RefineryError(.internal, "batch position \(i): weight is not finite") }
        }
    }
}
