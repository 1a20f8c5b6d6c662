import Foundation
import RefineryRecords

/// The training loop: draws packed batches from the data stream, weights examples by the objective, accumulates
/// gradients over micro-batches normalised by the window's targets, judges each step's health, clips, updates
/// with AdamW, logs and checkpoints.
public final class Trainer {
    public let config: TrainingConfig
    public let tokenizer: BPETokenizer
    public let tokenizerDirectory: String
    public let modelConfig: GPTConfig
    public private(set) var stream: DataStream
    /// Mean reward per category over the training examples (the `category_mean` baseline).
    public let categoryMeans: [String: Double]
    private let checkpoints: String

    /// Prepares a run: loads (or learns) the tokenizer and tokenises the datasets.
    /// - Parameter progress: receives human-readable progress lines.
    /// - Throws: ``RefineryError`` for unreadable data, a mismatched tokenizer or an objective the data cannot serve.
    public init(config: TrainingConfig, progress: (String) -> Void = { _ in }) throws {
        self.config = config
        checkpoints = (config.output as NSString).appendingPathComponent("checkpoints")
        let fm = FileManager.default
        if fm.fileExists(atPath: (config.tokenizer as NSString).appendingPathComponent("vocab.json")) {
            tokenizer = try BPETokenizer.load(from: config.tokenizer)
        } else {
            progress("learning a \(config.tokenizerVocabulary)-token tokenizer from \(config.datasets[0].path)")
            tokenizer = try BPETokenizer.learn(fromDataset: config.datasets[0].path, split: config.datasets[0].split,
                                               vocabularySize: config.tokenizerVocabulary).tokenizer
            try tokenizer.save(to: config.tokenizer)
        }
        tokenizerDirectory = config.tokenizer
        var model = config.model
        model.vocabularySize = tokenizer.vocabularySize
        modelConfig = model
        if [.userMean, .itemMean].contains(config.objective.baseline) {
            throw RefineryError(.spec, "baseline '\(config.objective.baseline.rawValue)' weighs each item of an interaction history; "
                + "train recommenders with `refinery recsys DATASET --baseline \(config.objective.baseline.rawValue)`, and text models here "
                + "with none, category_mean, batch_mean or ema")
        }
        let template = try ChatTemplate(tokenizer: tokenizer)
        var datasets: [DatasetExamples] = []
        for source in config.datasets {
            var examples = try DatasetExamples(directory: source.path, split: source.split, template: template, context: model.context)
            if config.objective.needsReward {
                let missing = examples.examples.filter { $0.reward == nil }
                if !missing.isEmpty {
                    guard config.skipMissingReward else {
                        throw RefineryError(.input, "objective '\(config.objective.kind.rawValue)' needs a reward, and \(missing.count) "
                            + "examples of \(source.path) have none (first: \(missing[0].id)); set data.missing_reward: skip to leave them out")
                    }
                    let report = examples.report
                    examples = try DatasetExamples(name: source.path, examples: examples.examples.filter { $0.reward != nil },
                                                   context: model.context, padToken: template.endOfText)
                    progress("\(source.path): left out \(missing.count) examples without a reward (of \(report.examples))")
                }
            }
            let r = examples.report
            progress("\(source.path) [\(source.split)]: \(r.records) records -> \(r.examples) examples, \(r.targets) target tokens"
                + (r.skipped.isEmpty ? "" : "; skipped " + r.skipped.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")))
            datasets.append(examples)
        }
        stream = try DataStream(datasets: datasets, weights: config.datasets.map(\.weight), seed: config.schedule.seed)
        var sums: [String: (Double, Int)] = [:]
        for dataset in datasets {
            for e in dataset.examples { if let r = e.reward { let key = e.category ?? ""; sums[key, default: (0, 0)].0 += r; sums[key, default: (0, 0)].1 += 1 } }
        }
        categoryMeans = sums.mapValues { $0.0 / Double($0.1) }
    }

    /// What a finished run did.
    public struct Summary: Sendable {
        public var steps: Int
        public var updates: Int
        public var tokens: Int
        public var finalLoss: Double
        public var health: HealthMonitor
        public var checkpoint: String
    }

    /// Trains to the configured number of steps, from scratch or from the newest checkpoint.
    /// - Parameters:
    ///   - resume: continue from the newest complete checkpoint under the output folder.
    ///   - onStep: receives every step's record (also appended to `log.jsonl`).
    /// - Throws: ``RefineryError`` (code `usage`) when the output holds checkpoints and `resume` is false, or when
    ///   the checkpoint was made under another configuration; `input` after too many rollbacks.
    public func run(resume: Bool, onStep: (StepRecord) -> Void = { _ in }) throws -> Summary {
        let existing = try Checkpoint.list(under: checkpoints)
        let model: GPT
        let optimizer: AdamW
        var state: TrainingState
        if resume, let last = existing.last {
            (model, optimizer, state) = try restore(last)
        } else {
            guard existing.isEmpty else {
                throw RefineryError(.usage, "\(config.output) already holds checkpoints (newest step \(existing.last!.step)); "
                    + "pass --resume to continue that run, or remove the folder to start over")
            }
            try Matmul.load()
            model = GPT(config: modelConfig, seed: config.schedule.seed)
            optimizer = AdamW(layout: model.layout, settings: config.schedule.adam)
            state = TrainingState(cursor: stream.cursor, health: HealthMonitor(settings: config.health), configHash: config.hash)
            try Checkpoint.save(model: model, optimizer: optimizer, state: state, step: 0, tokenizerDirectory: tokenizerDirectory,
                                under: checkpoints, keep: config.checkpointKeep)
        }
        let logPath = (config.output as NSString).appendingPathComponent("log.jsonl")
        if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
        guard let log = FileHandle(forWritingAtPath: logPath) else {
            throw RefineryError(.output, "cannot append to the training log", at: SourceLocation(file: logPath))
        }
        defer { try? log.close() }
        // Steps after the checkpoint are redone, so their lines go.
        try log.truncate(atOffset: UInt64(state.logBytes))
        try log.seekToEnd()
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let schedule = LearningRateSchedule(peak: config.schedule.learningRate, floor: config.schedule.minLearningRate,
                                            warmupSteps: config.schedule.warmup, totalSteps: config.schedule.steps)
        var skippedBatches = Set(state.health.skippedBatches)
        var lastLoss = Double.nan
        var lastCheckpoint = existing.last?.directory ?? ""
        let clock = ContinuousClock()
        while state.step < config.schedule.steps {
            let started = clock.now
            var batches: [PackedBatch] = []
            var numbers: [Int] = []
            while batches.count < config.schedule.accumulation {
                let batch = try stream.nextBatch(rows: config.schedule.batchRows)
                let number = state.batchesDrawn
                state.batchesDrawn += 1
                if skippedBatches.contains(number) { continue }
                batches.append(batch)
                numbers.append(number)
            }
            let examples = batches.flatMap(\.examples).map { Objective.Example(reward: $0.reward, group: $0.category ?? "") }
            let (weights, summary) = try config.objective.weights(examples, groupMeans: categoryMeans, state: &state.objective)
            let targets = batches.reduce(0) { $0 + $1.targetCount }
            model.zeroGradients()
            var weighted = 0.0, plain = 0.0
            var offset = 0
            for (k, batch) in batches.enumerated() {
                var tokens = TokenBatch(batch, exampleWeights: Array(weights[offset..<(offset + batch.examples.count)]))
                poison(&tokens, batch: numbers[k])
                offset += batch.examples.count
                let loss = model.forward(tokens, gradientScale: 1 / Float(max(1, targets)))
                model.backward()
                weighted += loss.weightedSum
                plain += loss.plainSum
            }
            let meanLoss = weighted / Double(max(1, targets)), meanNLL = plain / Double(max(1, targets))
            let norm = AdamW.globalNorm(model.gradients)
            let verdict = state.health.judge(step: state.step, batches: numbers, loss: meanLoss.isFinite ? meanNLL : .nan, gradientNorm: norm)
            let rate = schedule.rate(at: state.step) * state.health.rateScale
            switch verdict {
            case .update:
                if norm > config.schedule.clip { AdamW.scale(model.gradients, by: Float(config.schedule.clip / norm)) }
                optimizer.step(parameters: model.parameters, gradients: model.gradients, rate: Float(rate))
                state.optimizerSteps = optimizer.steps
                state.tokens += targets
                lastLoss = meanLoss
                state.step += 1
            case .skipNonFinite, .skipSpike:
                state.step += 1
            case .rollback:
                guard state.health.rollbacks < config.health.maxRollbacks else {
                    throw RefineryError(.input, "training stopped: \(state.health.rollbacks) rollbacks did not cure repeated loss spikes "
                        + "(step \(state.step)); lower schedule.learning_rate or inspect the batches named in \(logPath)")
                }
                guard let good = try Checkpoint.list(under: checkpoints).last else {
                    throw RefineryError(.internal, "rollback needed but no checkpoint exists under \(checkpoints)")
                }
                let (restoredModel, restoredOptimizer, restoredState) = try restore(good)
                model.parameters.copy(from: restoredModel.parameters)
                optimizer.restore(m: restoredOptimizer.m.array, v: restoredOptimizer.v.array, steps: restoredOptimizer.steps)
                let health = state.health.rolledBack(to: restoredState.health)
                state = restoredState
                state.health = health
                skippedBatches = Set(health.skippedBatches)
            }
            let elapsed = clock.now - started
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            let record = StepRecord(step: state.step, loss: meanLoss, nll: meanNLL, learningRate: rate, gradientNorm: norm,
                                    tokensPerSecond: Double(batches.count * config.schedule.batchRows * modelConfig.context) / max(seconds, 1e-9),
                                    targets: targets, verdict: verdict.rawValue, weights: summary)
            if var line = try? encoder.encode(record) { line.append(0x0A); log.write(line) }
            onStep(record)
            if verdict != .rollback && (state.step % config.checkpointEvery == 0 || state.step == config.schedule.steps) {
                state.cursor = stream.cursor
                state.logBytes = Int(try log.offset())
                lastCheckpoint = try Checkpoint.save(model: model, optimizer: optimizer, state: state, step: state.step,
                                                     tokenizerDirectory: tokenizerDirectory, under: checkpoints,
                                                     keep: config.checkpointKeep).directory
            }
        }
        return Summary(steps: state.step, updates: state.optimizerSteps, tokens: state.tokens, finalLoss: lastLoss,
                       health: state.health, checkpoint: lastCheckpoint)
    }

    /// The model, optimiser and state of a checkpoint, with the data stream moved to its cursor.
    private func restore(_ checkpoint: Checkpoint) throws -> (GPT, AdamW, TrainingState) {
        let state = try checkpoint.loadState(TrainingState.self)
        guard state.configHash == config.hash else {
            throw RefineryError(.usage, "the checkpoint \(checkpoint.directory) was made with another training configuration; "
                + "resume with the same file, or train into a new output folder")
        }
        for file in ["vocab.json", "merges.txt"] {
            let saved = FileManager.default.contents(atPath: (checkpoint.tokenizerDirectory as NSString).appendingPathComponent(file))
            let current = FileManager.default.contents(atPath: (tokenizerDirectory as NSString).appendingPathComponent(file))
            guard saved != nil && saved == current else {
                throw RefineryError(.usage, "the tokenizer in \(tokenizerDirectory) differs from the one this run was trained with "
                    + "(its \(file) is not the copy in \(checkpoint.tokenizerDirectory)); point data.tokenizer at that copy to resume")
            }
        }
        let model = try checkpoint.loadModel()
        guard model.config == modelConfig else {
            throw RefineryError(.usage, "the checkpoint's model (\(model.config)) differs from the configuration's (\(modelConfig))")
        }
        let optimizer = AdamW(layout: model.layout, settings: config.schedule.adam)
        try checkpoint.loadOptimizer(into: optimizer)
        try stream.restore(state.cursor)
        return (model, optimizer, state)
    }

    /// Damages the batch as the configuration's `debug.poison` asks for this global batch number.
    private func poison(_ batch: inout TokenBatch, batch number: Int) {
        for p in config.poison where p.batch == number {
            switch p.kind {
            case .nan:
                if let i = batch.targets.firstIndex(where: { $0 >= 0 }) { batch.weights[i] = .nan }
            case .spike:
                let v = Int32(modelConfig.vocabularySize)
                batch.targets = batch.targets.enumerated().map { i, t in t < 0 ? t : (t + 1 + Int32(i % 97)) % v }
            }
        }
    }
}
