import ArgumentParser
import Foundation
import RefineryRecords
import RefineryTraining

/// `refinery export CHECKPOINT --out DIR`: a Hugging Face GPT-2 folder.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write model.safetensors, config.json and the tokenizer so transformers' GPT2LMHeadModel loads the checkpoint.")

    @Argument(help: "A checkpoint folder, or a training output folder (its newest checkpoint).")
    var checkpoint: String

    @Option(name: .long, help: "The folder to write (created if missing).")
    var out: String

    @OptionGroup var global: GlobalOptions

    func run() throws {
        _ = global.makeLogger()
        do {
            let found = try Checkpoint.locate(checkpoint)
            let files = try HuggingFaceExport.export(found, to: out)
            printError("export: step \(found.step) -> \(out): \(files.joined(separator: ", "))")
        } catch let error as RefineryError {
            printError("error: \(error)")
            throw ExitCode(1)
        }
    }
}
