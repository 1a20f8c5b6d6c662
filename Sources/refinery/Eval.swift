import ArgumentParser
import Foundation
import RefineryRecords
import RefineryTraining

/// `refinery eval CHECKPOINT DATASET`: a checkpoint's loss and perplexity on a dataset split.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Loss and perplexity of a checkpoint on a dataset split (JSON on stdout).")

    @Argument(help: "A checkpoint folder, or a training output folder (its newest checkpoint).")
    var checkpoint: String

    @Argument(help: "A dataset folder (holding manifest.json).")
    var dataset: String

    @Option(name: .long, help: "The split to evaluate.")
    var split: String = "validation"

    @Option(name: .long, help: "Also write the first packed batch (batch.json), its logits (logits.bin) and loss (loss.txt) here.")
    var dump: String?

    @OptionGroup var global: GlobalOptions

    func run() throws {
        _ = global.makeLogger()
        do {
            let found = try Checkpoint.locate(checkpoint)
            let (model, tokenizer) = (try found.loadModel(), try found.loadTokenizer())
            let data = try Evaluation.examples(tokenizer: tokenizer, directory: dataset, split: split, context: model.config.context)
            let result = try Evaluation.run(model: model, data: data)
            if let dump { try Evaluation.dumpFirstBatch(model: model, data: data, to: dump) }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        } catch let error as RefineryError {
            printError("error: \(error)")
            throw ExitCode(1)
        }
    }
}
