import ArgumentParser
import Foundation
import RefineryRecords
import RefineryTraining

/// `refinery train CONFIG.yaml [--resume]`: train the built-in GPT on dataset shards.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a GPT-2-shaped model on datasets with SFT, A-SFT, RWBC or filtered BC (see pipelines/training/demo.yaml).",
        discussion: "Writes checkpoints/step-N/ (atomic, the newest K kept) and log.jsonl (one JSON line a step) under the "
            + "configuration's output folder, and records the run in the configuration's `catalog:` (or the catalog.sqlite beside "
            + "the first dataset that lists its version). Exit 1 on a data or run error, 64 on a bad configuration.")

    @Argument(help: "A training configuration (YAML).")
    var config: String

    @Flag(name: .long, help: "Continue from the newest complete checkpoint in the output folder.")
    var resume = false

    @Option(name: .long, help: "Print a progress line every N steps (0: only the summary).")
    var every: Int = 10

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let logger = global.makeLogger()
        let settings: TrainingConfig
        do {
            settings = try TrainingConfig.load(path: config)
        } catch let error as RefineryError {
            printError("error: \(error)")
            throw ExitCode(64)
        }
        let recording = TrainingRecording.start(settings, configPath: config, logger: logger)
        do {
            let trainer = try Trainer(config: settings) { printError("train: \($0)") }
            let m = trainer.modelConfig
            printError("train: \(settings.name): \(m.layers) layers × \(m.width) wide, \(m.heads) heads, context \(m.context), "
                + "vocabulary \(m.vocabularySize), \(m.parameterCount) parameters; objective \(settings.objective.kind.rawValue); "
                + "\(settings.schedule.steps) steps of \(settings.schedule.accumulation) × \(settings.schedule.batchRows) rows")
            var last: StepRecord?
            let summary = try trainer.run(resume: resume) { record in
                last = record
                if every > 0 && (record.step % every == 0 || record.verdict != "update") {
                    printError(String(format: "step %5d  loss %.4f  nll %.4f  lr %.2e  grad %.3f  %6.0f tok/s  w̄ %.2f ess %.0f/%d  %@",
                                      record.step, record.loss, record.nll, record.learningRate, record.gradientNorm, record.tokensPerSecond,
                                      record.weights.mean, record.weights.effectiveSampleSize, record.weights.examples, record.verdict))
                }
            }
            let h = summary.health
            printError("train: done, \(summary.updates) updates over \(summary.steps) steps, \(summary.tokens) target tokens; "
                + "skipped \(h.nonFiniteSkips) non-finite and \(h.spikeSkips) spike steps, \(h.rollbacks) rollbacks")
            recording?.succeeded(summary, last: last)
            print(summary.checkpoint)
        } catch {
            recording?.failed(error)
            guard let error = error as? RefineryError else { throw error }
            printError("error: \(error)")
            throw ExitCode(error.code == .spec ? 64 : 1)
        }
    }
}
