import RefineryRecords

/// Packs examples into a ``PackedBatch``, greedily in the order given: an example goes at the end of the current
/// row when it fits, else the rest of the row is padded and it starts the next row; when no row is left it is
/// refused, for the next batch. Nothing is reordered, so a data cursor is just "how many examples were taken".
public struct Packer: Sendable {
    /// Positions per row (the model's context `T`).
    public let context: Int
    /// Rows per batch.
    public let rows: Int
    /// The padding token (`<|endoftext|>`).
    public let padToken: Int32

    private var inputs: [Int32] = []
    private var targets: [Int32] = []
    private var positions: [Int32] = []
    private var segmentStarts: [Int32] = []
    private var exampleIndex: [Int32] = []
    private var examples: [PackedExample] = []
    /// The row being filled and how many of its positions are used.
    private var row = 0
    private var fill = 0

    /// Creates a packer for batches of `rows` rows of `context` positions.
    /// - Throws: ``RefineryError`` (code `usage`) when `context` or `rows` is below 1.
    public init(context: Int, rows: Int, padToken: Int32) throws {
        guard context >= 1, rows >= 1 else {
            throw RefineryError(.usage, "a batch needs at least 1 row of at least 1 position, got \(rows) rows of \(context)")
        }
        self.context = context
        self.rows = rows
        self.padToken = padToken
        reserve()
    }

    /// Whether no example has been added since the last ``finish()``.
    public var isEmpty: Bool { examples.isEmpty }

    /// Adds an example where it fits: at the end of the current row, else at the start of the next.
    /// - Parameters:
    ///   - example: an example of 2 to `context + 1` tokens (``TrainingExample/pieces(context:)`` cuts longer ones).
    ///   - dataset: the index of its dataset, kept in the batch's ``PackedBatch/examples``.
    /// - Returns: `false`, adding nothing, when it fits in neither the current row nor a next one (the batch is full).
    /// - Throws: ``RefineryError`` (code `usage`) when the example has fewer than 2 or more than `context + 1` tokens.
    public mutating func add(_ example: TrainingExample, dataset: Int) throws -> Bool {
        let need = example.positionCount
        guard need >= 1, need <= context else {
            throw RefineryError(.usage, "example \(example.id) has \(example.tokens.count) tokens; a context of \(context) packs 2 to "
                                + "\(context + 1): cut it with pieces(context:)")
        }
        if fill + need > context {
            guard row + 1 < rows else { return false }
            padRow()
            row += 1
            fill = 0
        }
        let index = Int32(examples.count)
        let start = Int32(fill)
        var targetCount = 0
        for j in 0..<need {
            inputs.append(example.tokens[j])
            if example.mask[j + 1] {
                targets.append(example.tokens[j + 1])
                targetCount += 1
            } else {
                targets.append(-1)
            }
            positions.append(Int32(j))
            segmentStarts.append(start)
            exampleIndex.append(index)
        }
        fill += need
        examples.append(PackedExample(dataset: dataset, id: example.id, reward: example.reward, category: example.category,
                                      source: example.source, targets: targetCount))
        return true
    }

    /// The batch so far, its last used row padded, and a fresh start. Rows after the last used one are left out, so
    /// the batch may have fewer than ``rows`` rows (only when the examples ran out), and none when nothing was added.
    public mutating func finish() -> PackedBatch {
        let used = fill > 0 ? row + 1 : row
        if fill > 0 { padRow() }
        let batch = PackedBatch(rows: used, context: context, inputs: inputs, targets: targets, positions: positions,
                                segmentStarts: segmentStarts, exampleIndex: exampleIndex, examples: examples)
        inputs = []
        targets = []
        positions = []
        segmentStarts = []
        exampleIndex = []
        examples = []
        row = 0
        fill = 0
        reserve()
        return batch
    }

    /// Fills the rest of the current row with padding: one segment, positions from 0.
    private mutating func padRow() {
        let start = Int32(fill)
        for j in 0..<(context - fill) {
            inputs.append(padToken)
            targets.append(-1)
            positions.append(Int32(j))
            segmentStarts.append(start)
            exampleIndex.append(-1)
        }
        fill = context
    }

    private mutating func reserve() {
        let capacity = rows * context
        inputs.reserveCapacity(capacity)
        targets.reserveCapacity(capacity)
        positions.reserveCapacity(capacity)
        segmentStarts.reserveCapacity(capacity)
        exampleIndex.reserveCapacity(capacity)
    }
}
