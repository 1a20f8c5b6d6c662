import Foundation

/// A checkpoint's loss on every example of a dataset split, once, in order, unweighted.
public struct Evaluation: Codable, Sendable {
    /// Mean NLL per target token.
    public var loss: Double
    public var perplexity: Double
    public var targets: Int
    public var examples: Int
    public var report: ExampleReport

    /// Evaluates `model` on `split` of the dataset folder `directory`.
    /// - Throws: ``RefineryError`` for an unreadable dataset.
    public static func run(model: GPT, tokenizer: BPETokenizer, directory: String, split: String, rows: Int = 8) throws -> Evaluation {
        let template = try ChatTemplate(tokenizer: tokenizer)
        let data = try DatasetExamples(directory: directory, split: split, template: template, context: model.config.context)
        var sum = 0.0, targets = 0
        for batch in try data.batches(rows: rows) {
            let tokens = TokenBatch(rows: batch.rows, inputs: batch.inputs, positions: batch.positions, segmentStarts: batch.segmentStarts,
                                    targets: batch.targets, weights: Array(repeating: 1, count: batch.targets.count))
            let loss = model.forward(tokens)
            sum += loss.plainSum
            targets += loss.targets
        }
        let mean = targets == 0 ? 0 : sum / Double(targets)
        return Evaluation(loss: mean, perplexity: Foundation.exp(mean), targets: targets, examples: data.examples.count, report: data.report)
    }
}
