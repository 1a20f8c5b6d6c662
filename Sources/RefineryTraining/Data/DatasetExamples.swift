import RefineryRecords
import RefineryShards

/// The training examples of one dataset split, tokenised once and cut to the model's context: what
/// ``DataStream`` samples from and what evaluation packs in order.
///
/// Examples longer than `context + 1` tokens are cut into pieces (``TrainingExample/pieces(context:)``); the pieces
/// are separate units from here on (each packed on its own, positions restarting at 0), in record order.
public struct DatasetExamples: Sendable {
    /// The dataset folder (or a caller's label for examples built in memory).
    public let name: String
    /// The model's context `T`: every example has at most `T + 1` tokens.
    public let context: Int
    /// The padding token (`<|endoftext|>`).
    public let padToken: Int32
    /// The examples (pieces), in record order.
    public let examples: [TrainingExample]
    /// What the records became.
    public let report: ExampleReport

    /// Reads and tokenises a dataset split.
    /// - Parameters:
    ///   - directory: the dataset folder.
    ///   - split: the split to read (`train`, `validation`).
    ///   - template: the chat template (and tokenizer).
    ///   - context: the model's context length `T`, at least 1.
    /// - Throws: ``RefineryError``: `integrity` when a shard differs from the manifest (see
    ///   ``DatasetRecords/forEach(split:_:)``), `usage` when `context` is below 1.
    /// - Complexity: one pass over the split's records; all examples are kept in memory.
    public init(directory: String, split: String = "train", template: ChatTemplate, context: Int) throws {
        try Self.checkContext(context)
        var examples: [TrainingExample] = []
        var report = ExampleReport()
        try DatasetRecords(directory: directory).forEach(split: split) { record in
            report.records += 1
            let id = record.id
            switch template.example(from: record.value, id: id) {
            case .example(let example): Self.add(example, context: context, to: &examples, report: &report)
            case .skipped(let reason): report.skip(reason, id: id)
            }
        }
        self.init(name: directory, context: context, padToken: template.endOfText, examples: examples, report: report)
    }

    /// Examples built in memory (tests, generated data), cut to the context; those without a trained token are
    /// reported as ``SkipReason/noTargets``.
    /// - Parameters:
    ///   - name: a label for messages.
    ///   - examples: the examples, in order.
    ///   - context: the model's context length `T`, at least 1.
    ///   - padToken: the padding token (`<|endoftext|>`).
    /// - Throws: ``RefineryError`` (code `usage`) when `context` is below 1.
    public init(name: String, examples: [TrainingExample], context: Int, padToken: Int32) throws {
        try Self.checkContext(context)
        var kept: [TrainingExample] = []
        var report = ExampleReport()
        for example in examples {
            report.records += 1
            if example.targetCount == 0 {
                report.skip(.noTargets, id: example.id)
            } else {
                Self.add(example, context: context, to: &kept, report: &report)
            }
        }
        self.init(name: name, context: context, padToken: padToken, examples: kept, report: report)
    }

    private init(name: String, context: Int, padToken: Int32, examples: [TrainingExample], report: ExampleReport) {
        self.name = name
        self.context = context
        self.padToken = padToken
        self.examples = examples
        self.report = report
    }

    /// All examples once, in order, packed greedily into batches of `rows` rows (the last batch may have fewer):
    /// for evaluation.
    /// - Parameter rows: rows per batch, at least 1.
    /// - Returns: the batches; ``PackedExample/dataset`` is 0.
    /// - Throws: ``RefineryError`` (code `usage`) when `rows` is below 1.
    public func batches(rows: Int) throws -> [PackedBatch] {
        var packer = try Packer(context: context, rows: rows, padToken: padToken)
        var batches: [PackedBatch] = []
        for example in examples {
            if try !packer.add(example, dataset: 0) {
                batches.append(packer.finish())
                _ = try packer.add(example, dataset: 0)
            }
        }
        if !packer.isEmpty { batches.append(packer.finish()) }
        return batches
    }

    private static func checkContext(_ context: Int) throws {
        guard context >= 1 else { throw RefineryError(.usage, "the context must be at least 1 token, got \(context)") }
    }

    private static func add(_ example: TrainingExample, context: Int, to examples: inout [TrainingExample], report: inout ExampleReport) {
        report.examples += 1
        let pieces = example.pieces(context: context)
        if example.tokens.count > context + 1 {
            report.splitExamples += 1
            report.droppedPieces += (example.tokens.count - 2) / context + 1 - pieces.count
        }
        report.pieces += pieces.count
        for piece in pieces {
            report.tokens += piece.tokens.count
            report.targets += piece.targetCount
        }
        examples += pieces
    }
}
