import Foundation
import RefineryRecords
import RefineryShards

/// A checkpoint's loss on every example of a dataset split, once, in order, unweighted.
public struct Evaluation: Codable, Sendable {
    /// Mean NLL per target token.
    public var loss: Double
    public var perplexity: Double
    public var targets: Int
    public var examples: Int
    public var report: ExampleReport

    /// The examples of `split` of the dataset folder `directory`, read and tokenised once for ``run(model:data:rows:)``
    /// and ``dumpFirstBatch(model:data:to:)``.
    /// - Throws: ``RefineryError`` for an unreadable dataset, or (code `usage`) a split without examples, naming the
    ///   splits the dataset has.
    public static func examples(tokenizer: BPETokenizer, directory: String, split: String, context: Int) throws -> DatasetExamples {
        let template = try ChatTemplate(tokenizer: tokenizer)
        let data = try DatasetExamples(directory: directory, split: split, template: template, context: context)
        guard !data.examples.isEmpty else {
            let splits = Set(try DatasetRecords(directory: directory).manifest.shards.map(\.split)).sorted()
            throw RefineryError(.usage, "the '\(split)' split of \(directory) has no examples to evaluate; "
                + "its splits: \(splits.joined(separator: ", ")) (choose one with --split)")
        }
        return data
    }

    /// Evaluates `model` on every example of `data`.
    public static func run(model: GPT, data: DatasetExamples, rows: Int = 8) throws -> Evaluation {
        var sum = 0.0, targets = 0
        for batch in try data.batches(rows: rows) {
            let loss = model.forward(TokenBatch(batch))
            sum += loss.plainSum
            targets += loss.targets
        }
        let mean = targets == 0 ? 0 : sum / Double(targets)
        return Evaluation(loss: mean, perplexity: Foundation.exp(mean), targets: targets, examples: data.examples.count, report: data.report)
    }

    /// Writes the first packed batch of the split as `batch.json`, the model's logits on it as `logits.bin`
    /// (fp32 little-endian, row, position, vocabulary) and the mean NLL over its targets as `loss.txt`: the inputs of
    /// `tools/trainer/reference.py check`, which recomputes them from the exported weights.
    public static func dumpFirstBatch(model: GPT, data: DatasetExamples, to folder: String) throws {
        guard let batch = try data.batches(rows: 4).first else { throw RefineryError(.input, "\(data.name) has no examples to dump") }
        let loss = model.forward(TokenBatch(batch))
        let t = model.config.context
        func rows(_ values: [Int32]) -> [[Int]] { (0..<batch.rows).map { r in values[(r * t)..<((r + 1) * t)].map(Int.init) } }
        let json: [String: Any] = ["tokens": rows(batch.inputs), "positions": rows(batch.positions), "segment_starts": rows(batch.segmentStarts),
                                   "targets": rows(batch.targets), "weights": (0..<batch.rows).map { _ in [Double](repeating: 1, count: t) }]
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]).write(to: URL(fileURLWithPath: folder + "/batch.json"))
            try model.withLogits { try Data(buffer: $0).write(to: URL(fileURLWithPath: folder + "/logits.bin")) }
            try String(format: "%.9g\n", loss.weightedSum / Double(max(1, loss.targets))).write(toFile: folder + "/loss.txt", atomically: true, encoding: .utf8)
        } catch {
            throw RefineryError(.output, "cannot write the dump: \((error as NSError).localizedDescription)", at: SourceLocation(file: folder))
        }
    }
}
