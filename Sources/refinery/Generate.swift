import ArgumentParser
import Foundation
import RefineryRecords
import RefineryTraining

/// `refinery generate CHECKPOINT --prompt TEXT`: continue a prompt with a trained model.
struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Continue a prompt with a checkpoint (greedy by default).")

    @Argument(help: "A checkpoint folder, or a training output folder (its newest checkpoint).")
    var checkpoint: String

    @Option(name: .long, help: "The text to continue.")
    var prompt: String

    @Flag(name: .long, help: "Treat the prompt as a user's chat turn and answer as the assistant.")
    var chat = false

    @Option(name: .long, help: "Tokens to generate at most.")
    var maxTokens: Int = 64

    @Option(name: .long, help: "Sampling temperature; 0 is greedy.")
    var temperature: Double = 0

    @Option(name: .long, help: "Sample among the K most likely tokens (0: all).")
    var topK: Int = 0

    @Option(name: .long, help: "Seed of the sampler.")
    var seed: UInt64 = 1

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard temperature >= 0 else { throw ValidationError("--temperature must be 0 or more, got \(temperature)") }
        guard maxTokens > 0 else { throw ValidationError("--max-tokens must be positive, got \(maxTokens)") }
        guard topK >= 0 else { throw ValidationError("--top-k must be 0 or more, got \(topK)") }
    }

    func run() throws {
        _ = global.makeLogger()
        do {
            let found = try Checkpoint.locate(checkpoint)
            let (model, tokenizer) = (try found.loadModel(), try found.loadTokenizer())
            let template = try ChatTemplate(tokenizer: tokenizer)
            let prompt = chat ? template.prompt(messages: [ChatMessage(role: .user, content: self.prompt)]) : template.encodeText(self.prompt)
            var sampling = Generator.Sampling()
            sampling.temperature = temperature
            sampling.topK = topK
            sampling.maxTokens = maxTokens
            sampling.seed = seed
            let tokens = Generator.generate(model: model, prompt: prompt, sampling: sampling, stop: [template.endOfText, template.endOfMessage])
            print(tokenizer.decode(tokens))
        } catch let error as RefineryError {
            printError("error: \(error)")
            throw ExitCode(1)
        }
    }
}
