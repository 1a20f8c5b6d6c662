import ArgumentParser
import Foundation
import RefineryRecords
import RefineryTraining

/// `refinery train CONFIG.yaml [--resume]`: train the built-in GPT on dataset shards.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a GPT-2-shaped model on datasets with SFT, A-SFT, RWBC or filtered BC (see pipelines/train-demo.yaml).",
        discussion: "Writes checkpoints/step-N/ (atomic, the newest K kept) and log.jsonl (one JSON line a step) under the "
            + "configuration's output folder. Exit 1 on a data or run error, 64 on a bad configuration.")

    @Argument(help: "A training configuration (YAML).")
    var config: String

    @Flag(name: .long, help: "Continue from the newest complete checkpoint in the output folder.")
    var resume = false

    @Option(name: .long, help: "Print a progress line every N steps (0: only the summary).")
    var every: Int = 10

    @OptionGroup var global: GlobalOptions

    func run() throws {
        _ = global.makeLogger()
        do {
            let settings = try TrainingConfig.load(path: config)
            let trainer = try Trainer(config: settings) { printError("train: \($0)") }
            let m = trainer.modelConfig
            printError("train: \(settings.name): \(m.layers) layers × \(m.width) wide, \(m.heads) heads, context \(m.context), "
                + "vocabulary \(m.vocabularySize), \(m.parameterCount) parameters; objective \(settings.objective.kind.rawValue); "
                + "\(settings.schedule.steps) steps of \(settings.schedule.accumulation) × \(settings.schedule.batchRows) rows")
            let summary = try trainer.run(resume: resume) { record in
                if every > 0 && (record.step % every == 0 || record.verdict != "update") {
                    printError(String(format: "step %5d  loss %.4f  nll %.4f  lr %.2e  grad %.3f  %6.0f tok/s  w̄ %.2f ess %.0f/%d  %@",
                                      record.step, record.loss, record.nll, record.learningRate, record.gradientNorm, record.tokensPerSecond,
                                      record.weights.mean, record.weights.effectiveSampleSize, record.weights.examples, record.verdict))
                }
            }
            let h = summary.health
            printError("train: done, \(summary.updates) updates over \(summary.steps) steps, \(summary.tokens) target tokens; "
                + "skipped \(h.nonFiniteSkips) non-finite and \(h.spikeSkips) spike steps, \(h.rollbacks) rollbacks")
            print(summary.checkpoint)
        } catch let error as RefineryError {
            printError("error: \(error)")
            throw ExitCode(error.code == .spec ? 64 : 1)
        }
    }
}

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
            let model = try found.loadModel()
            let tokenizer = try BPETokenizer.load(from: found.tokenizerDirectory)
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
            let model = try found.loadModel()
            let tokenizer = try BPETokenizer.load(from: found.tokenizerDirectory)
            let result = try Evaluation.run(model: model, tokenizer: tokenizer, directory: dataset, split: split)
            if let dump { try Evaluation.dumpFirstBatch(model: model, tokenizer: tokenizer, directory: dataset, split: split, to: dump) }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        } catch let error as RefineryError {
            printError("error: \(error)")
            throw ExitCode(1)
        }
    }
}

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
