import RefineryCodecs
import RefineryRecords

/// Where a ``DataStream`` is: saved with a checkpoint, restored to continue with exactly the batches that would
/// have followed.
public struct DataCursor: Codable, Sendable, Equatable {
    /// Where one dataset of the mixture is.
    public struct Position: Codable, Sendable, Equatable {
        /// Passes completed over the dataset's examples.
        public var epoch: Int
        /// The next example's place in this epoch's shuffled order, `0..<examples`.
        public var index: Int
        /// Examples taken from the dataset since the start, over all epochs.
        public var consumed: Int
        /// The dataset's example count, checked on restore.
        public var examples: Int

        /// Creates a position.
        public init(epoch: Int, index: Int, consumed: Int, examples: Int) {
            self.epoch = epoch
            self.index = index
            self.consumed = consumed
            self.examples = examples
        }
    }

    /// The stream's seed, checked on restore.
    public var seed: UInt64
    /// One position per dataset, in mixture order.
    public var datasets: [Position]

    /// Creates a cursor.
    public init(seed: UInt64, datasets: [Position]) {
        self.seed = seed
        self.datasets = datasets
    }
}

/// The training examples of one or more datasets, in a deterministic shuffled order, packed into batches, with a
/// cursor that resumes exactly.
///
/// - Order: each dataset is visited epoch after epoch, each epoch in a Fisher–Yates shuffle by ``SplitMix64`` seeded
///   from (seed, dataset index, epoch) — see ``order(count:seed:dataset:epoch:)``.
/// - Mixture: the next example comes from the dataset ``nextDataset(consumed:weights:)`` picks, so after any `n`
///   examples dataset `i` has given within one of `n * weight[i]`; each dataset runs through its own epochs
///   independently (a small replay set repeats more often).
/// - Packing: greedy in that order (``Packer``); an example that does not fit the last row is not taken, so the
///   cursor is just per-dataset (epoch, index).
///
/// For evaluation, pack a split once, in order, with ``DatasetExamples/batches(rows:)``.
public struct DataStream: Sendable {
    /// The datasets, in mixture order.
    public let datasets: [DatasetExamples]
    /// Their weights, normalised to sum to 1.
    public let weights: [Double]
    /// The shuffle seed.
    public let seed: UInt64
    /// Positions per row (the model's context `T`).
    public var context: Int { datasets[0].context }
    /// What each dataset's records became, in mixture order.
    public var reports: [ExampleReport] { datasets.map(\.report) }
    /// Where the stream is; pass it to ``restore(_:)`` to continue from here.
    public private(set) var cursor: DataCursor

    /// The shuffled order of each dataset's current epoch, and that epoch (−1: not made yet).
    private var orders: [[Int]]
    private var orderEpochs: [Int]

    /// A stream over datasets already loaded.
    /// - Parameters:
    ///   - datasets: the datasets, all with the same context and padding token, each with at least one example.
    ///   - weights: one per dataset, finite and above 0.
    ///   - seed: the shuffle seed.
    /// - Throws: ``RefineryError`` (code `usage`) when these conditions do not hold.
    public init(datasets: [DatasetExamples], weights: [Double], seed: UInt64) throws {
        guard let first = datasets.first else { throw RefineryError(.usage, "a data stream needs at least one dataset") }
        guard weights.count == datasets.count else {
            throw RefineryError(.usage, "\(datasets.count) datasets but \(weights.count) weights; give one weight per dataset")
        }
        for (dataset, weight) in zip(datasets, weights) {
            guard weight.isFinite, weight > 0 else {
                throw RefineryError(.usage, "dataset \(dataset.name) has weight \(weight); weights must be finite and above 0")
            }
            guard !dataset.examples.isEmpty else {
                throw RefineryError(.usage, "dataset \(dataset.name) has no example to train on: \(dataset.report)")
            }
            guard dataset.context == first.context, dataset.padToken == first.padToken else {
                throw RefineryError(.usage, "dataset \(dataset.name) was cut for another context or tokenizer than \(first.name)")
            }
        }
        let total = weights.reduce(0, +)
        self.datasets = datasets
        self.weights = weights.map { $0 / total }
        self.seed = seed
        cursor = DataCursor(seed: seed, datasets: datasets.map { .init(epoch: 0, index: 0, consumed: 0, examples: $0.examples.count) })
        orders = Array(repeating: [], count: datasets.count)
        orderEpochs = Array(repeating: -1, count: datasets.count)
    }

    /// Continues from a saved cursor: the batches that follow are those that followed when it was saved.
    /// - Throws: ``RefineryError`` (code `usage`) when the cursor belongs to another seed or other datasets.
    public mutating func restore(_ saved: DataCursor) throws {
        guard saved.seed == seed else {
            throw RefineryError(.usage, "the data cursor was saved with seed \(saved.seed), this stream has \(seed); resume with the same seed")
        }
        guard saved.datasets.count == datasets.count else {
            throw RefineryError(.usage, "the data cursor has \(saved.datasets.count) datasets, this stream \(datasets.count); resume with the same mixture")
        }
        for (dataset, position) in zip(datasets, saved.datasets) {
            guard position.examples == dataset.examples.count, position.epoch >= 0, position.consumed >= 0,
                  (0..<dataset.examples.count).contains(position.index) else {
                throw RefineryError(.usage, "the data cursor does not fit dataset \(dataset.name) (\(dataset.examples.count) examples, cursor at "
                                    + "epoch \(position.epoch) index \(position.index) of \(position.examples)); resume with the same data and context")
            }
        }
        cursor = saved
    }

    /// The next example of the mixture and its dataset index, taken.
    public mutating func nextExample() -> (dataset: Int, example: TrainingExample) {
        let next = peek()
        advance(next.dataset)
        return next
    }

    /// The next batch: examples in stream order packed greedily into exactly `rows` rows of ``context`` positions.
    /// - Parameter rows: rows per batch, at least 1.
    /// - Throws: ``RefineryError`` (code `usage`) when `rows` is below 1.
    public mutating func nextBatch(rows: Int) throws -> PackedBatch {
        var packer = try Packer(context: context, rows: rows, padToken: datasets[0].padToken)
        while true {
            let next = peek()
            guard try packer.add(next.example, dataset: next.dataset) else { break }
            advance(next.dataset)
        }
        return packer.finish()
    }

    /// The order in which one epoch visits a dataset's examples: a Fisher–Yates shuffle of `0..<count` drawing from
    /// ``SplitMix64`` seeded by mixing `seed`, `dataset` and `epoch`.
    /// - Complexity: O(`count`).
    public static func order(count: Int, seed: UInt64, dataset: Int, epoch: Int) -> [Int] {
        var state = SplitMix64.mix(seed)
        state = SplitMix64.mix(state ^ UInt64(truncatingIfNeeded: dataset))
        state = SplitMix64.mix(state ^ UInt64(truncatingIfNeeded: epoch))
        var generator = SplitMix64(seed: state)
        var order = Array(0..<count)
        var i = count - 1
        while i > 0 {
            // A uniform draw in 0...i by the high half of a 64x64-bit product (bias below 2^-40 for any real count).
            let j = Int(UInt64(i + 1).multipliedFullWidth(by: generator.next()).high)
            order.swapAt(i, j)
            i -= 1
        }
        return order
    }

    /// The dataset that gives example `n = sum(consumed) + 1` of a mixture (Balinski and Young's quota method): among
    /// the datasets still owed one (`consumed[i] < n * weights[i]`), the one with the smallest
    /// `(consumed[i] + 1) / weights[i]`, ties to the lower index. After any `n` examples, every dataset has given
    /// within one example of `n * weights[i]` (its quota), whatever the number of datasets.
    /// - Parameters:
    ///   - consumed: examples taken from each dataset so far.
    ///   - weights: the datasets' weights, normalised to sum to 1.
    /// - Returns: the index of the dataset to take from.
    public static func nextDataset(consumed: [Int], weights: [Double]) -> Int {
        let n = Double(consumed.reduce(0, +) + 1)
        func due(_ d: Int) -> Double { Double(consumed[d] + 1) / weights[d] }
        // Some dataset is always owed one (the counts sum to n - 1, the quotas to n); the fallback to all of them only
        // guards against rounding. `min(by:)` keeps the first of equals: ties go to the lower index.
        let owed = consumed.indices.filter { Double(consumed[$0]) < n * weights[$0] }
        return (owed.isEmpty ? Array(consumed.indices) : owed).min { due($0) < due($1) } ?? 0
    }

    /// The dataset the next example comes from and that example, not taken.
    private mutating func peek() -> (dataset: Int, example: TrainingExample) {
        let chosen = Self.nextDataset(consumed: cursor.datasets.map(\.consumed), weights: weights)
        let position = cursor.datasets[chosen]
        if orderEpochs[chosen] != position.epoch {
            orders[chosen] = Self.order(count: datasets[chosen].examples.count, seed: seed, dataset: chosen, epoch: position.epoch)
            orderEpochs[chosen] = position.epoch
        }
        return (chosen, datasets[chosen].examples[orders[chosen][position.index]])
    }

    private mutating func advance(_ dataset: Int) {
        cursor.datasets[dataset].consumed += 1
        cursor.datasets[dataset].index += 1
        if cursor.datasets[dataset].index == datasets[dataset].examples.count {
            cursor.datasets[dataset].epoch += 1
            cursor.datasets[dataset].index = 0
        }
    }
}
