import ArgumentParser
import Foundation
import RefineryRecords
import RefineryTraining

/// `refinery recsys DATASET`: train a generative recommender on a dataset's interaction histories and rank every
/// test user's next item against the whole catalogue.
struct Recsys: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a next-item recommender (the GPT decoder over item tokens) with SFT, A-SFT, RWBC or filtered BC, "
            + "and report HR@10, NDCG@10 and MRR over the full catalogue.",
        discussion: """
            Reads every interaction history (records with `items`) of DATASET, splits it by time (--split), learns the \
            item vocabulary from the training events, trains, and ranks each test target against every item (items the \
            user has already seen are not recommended again unless --include-seen). Metrics are reported on all test \
            users, on the high-reward ones (trajectory mean reward above the median) and on targets the user liked (reward ≥ 0.75). --model popularity or recent \
            evaluates a baseline without training. With --out, writes model.safetensors, items.json (the vocabulary), \
            recsys.json (settings, training summary, metrics; no timings, so the same inputs give the same bytes) and \
            log.jsonl there. Exit 1 on a data error (no history, no test user, nothing to train on), 64 on a bad option.
            """)

    @Argument(help: "A dataset folder (holding manifest.json) with interaction histories.")
    var dataset: String

    @Option(name: .long, help: "leave-last-out, time (cut-off at the 0.9 quantile of event times) or time:Q.")
    var split = "leave-last-out"

    @Option(name: .long, help: "gpt (train the decoder), popularity or recent (baselines, no training).")
    var model = "gpt"

    @Option(name: .long, help: "sft, asft, rwbc or filtered.")
    var objective = "sft"

    @Option(name: .long, help: "none, user_mean, item_mean, batch_mean, ema, or category_mean (one category here: the training mean).")
    var baseline = "none"

    @Option(name: .long, help: "A-SFT's temperature β (inf: SFT exactly).")
    var beta: String = "1"

    @Option(name: .customLong("w-max"), help: "A-SFT's largest weight.")
    var maxWeight = 20.0

    @Flag(inversion: .prefixedNo, help: "Divide each step's weights by their mean.")
    var normalize = true

    @Option(name: .long, help: "Standard deviation of Gaussian noise added to the training rewards (the tests keep theirs).")
    var noise = 0.0

    @Option(name: .long, help: "Seed of the reward noise.")
    var noiseSeed: UInt64 = 7

    @Option(name: .long, help: "Seed of the weights and the data order.")
    var seed: UInt64 = 1

    @Option(name: .long) var epochs = 20
    @Option(name: .long) var batchRows = 32
    @Option(name: .long) var learningRate = 2e-3
    @Option(name: .long) var minLearningRate = 2e-4
    @Option(name: .long) var warmup = 20
    @Option(name: .long) var layers = 2
    @Option(name: .long) var heads = 2
    @Option(name: .long) var width = 64
    @Option(name: .long, help: "Items the model reads (the most recent ones).") var context = 50
    @Option(name: .long, help: "Training events an item needs for a token of its own (else <unk>).") var minCount = 1

    @Flag(name: .long, help: "Rank items the user has already seen too.")
    var includeSeen = false

    @Option(name: .long, help: "Write the model, its item vocabulary, the settings and the metrics into this folder.")
    var out: String?

    @Flag(name: .long, help: "Print the result as one JSON object on stdout.")
    var json = false

    @OptionGroup var global: GlobalOptions

    /// What `recsys.json` and `--json` hold.
    struct Result: Codable {
        var dataset: String
        var split: String
        var model: String
        var objective: String?
        var baseline: String?
        var beta: Double?
        var noise: Double
        var seed: UInt64
        var users: Int
        var items: Int
        var trainingEvents: Int
        var tests: Int
        var usersWithoutTest: Int
        var otherRecords: Int
        var cutoff: Int64?
        var settings: RecommenderConfig?
        var training: RecommenderTrainer.Summary?
        var metrics: RecommenderReport?
    }

    func run() throws {
        _ = global.makeLogger()
        let config: RecommenderConfig, temporal: TemporalSplit
        do {
            (config, temporal) = try settings()
        } catch let error as RefineryError {
            printError("error: \(error)")
            throw ExitCode(64)
        }
        do {
            let log = try InteractionLog.read(directory: dataset)
            var data = RecommenderData(log: log, split: temporal)
            data.addRewardNoise(sigma: config.rewardNoise, seed: config.noiseSeed)
            let vocabulary = ItemVocabulary(training: data.train, minCount: config.minCount)
            printError("recsys: \(log.users.count) users, \(data.trainingEvents) training events, \(vocabulary.items.count) items; "
                + "\(data.tests.count) test users (\(temporal))" + (data.cutoff.map { ", cut-off \($0)" } ?? "")
                + (data.usersWithoutTest > 0 ? "; \(data.usersWithoutTest) users without a test" : "")
                + (log.otherRecords > 0 ? "; \(log.otherRecords) records without items left out" : ""))
            guard !data.tests.isEmpty else {
                throw RefineryError(.input, "no user has a test event under the \(temporal) split (\(data.usersWithoutTest) users without one)"
                    + (data.cutoff != nil ? "; no user has events on both sides of the cut-off, try another quantile (time:Q)" : "; every history has one event"),
                    at: SourceLocation(file: dataset))
            }
            var result = Result(dataset: dataset, split: temporal.description, model: model, noise: config.rewardNoise, seed: config.seed,
                                users: log.users.count, items: vocabulary.items.count, trainingEvents: data.trainingEvents,
                                tests: data.tests.count, usersWithoutTest: data.usersWithoutTest, otherRecords: log.otherRecords,
                                cutoff: data.cutoff)
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            let scorer: RecommenderEvaluation.Scorer
            var logLines = Data()
            switch model {
            case "popularity": scorer = RecommenderEvaluation.constantScorer(RecommenderEvaluation.popularityScores(data, vocabulary: vocabulary))
            case "recent": scorer = RecommenderEvaluation.constantScorer(RecommenderEvaluation.recentScores(data, vocabulary: vocabulary))
            default:
                result.objective = config.objective.kind.rawValue
                result.baseline = config.objective.baseline.rawValue
                result.beta = config.objective.beta
                result.settings = config
                let started = Date()
                let (trained, summary) = try RecommenderTrainer.train(data: data, vocabulary: vocabulary, config: config) { record in
                    if let line = try? encoder.encode(record) { logLines.append(line); logLines.append(0x0A) }
                }
                let seconds = Date().timeIntervalSince(started)
                printError(String(format: "recsys: trained %d steps over %d windows in %.1f s (%.0f targets/s), final loss %.4f, %d skipped",
                                  summary.steps, summary.windows, seconds, Double(summary.targets) / max(seconds, 1e-9), summary.finalLoss,
                                  summary.skippedNonFinite))
                result.training = summary
                scorer = RecommenderEvaluation.modelScorer(trained, vocabulary: vocabulary)
                if let out {
                    try makeFolder(out)
                    try Checkpoint.writeModel(trained, to: (out as NSString).appendingPathComponent("model.safetensors"))
                }
            }
            let m = RecommenderEvaluation.evaluate(data.tests, vocabulary: vocabulary, excludeSeen: !includeSeen, scorer: scorer)
            result.metrics = m
            let encoded = try encoder.encode(result)
            if let out {
                try makeFolder(out)
                try vocabulary.save(to: out)
                try write(encoded, to: (out as NSString).appendingPathComponent("recsys.json"))
                if !logLines.isEmpty { try write(logLines, to: (out as NSString).appendingPathComponent("log.jsonl")) }
            }
            print(json ? String(decoding: encoded, as: UTF8.self) : Self.table(m))
        } catch let error as RefineryError {
            printError("error: \(error)")
            throw ExitCode(error.code == .usage ? 64 : 1)
        }
    }

    /// The metrics as a table: all test users, the high-reward ones, liked targets.
    static func table(_ m: RecommenderReport) -> String {
        func f(_ x: Double) -> String { String(format: "%.4f", x) }
        var table = TextTable(["test users", "cases", "HR@10", "NDCG@10", "MRR"], rightAligned: [1, 2, 3, 4])
        for (name, metrics) in [("all", m.all), ("high reward (mean > \(f(m.medianTrajectoryReward)))", m.highReward),
                                ("liked target (reward ≥ \(RecommenderReport.likedReward))", m.likedTarget)] {
            table.append([name, "\(metrics.cases)", f(metrics.hitRate10), f(metrics.ndcg10), f(metrics.mrr)])
        }
        return table.render()
    }

    private func settings() throws -> (RecommenderConfig, TemporalSplit) {
        guard ["gpt", "popularity", "recent"].contains(model) else {
            throw RefineryError(.usage, "unknown --model '\(model)'; use gpt, popularity or recent")
        }
        var config = RecommenderConfig()
        guard let kind = Objective.Kind(rawValue: objective) else {
            throw RefineryError(.usage, "unknown --objective '\(objective)'; use " + Objective.Kind.allCases.map(\.rawValue).joined(separator: ", "))
        }
        guard let base = Objective.Baseline(rawValue: baseline) else {
            throw RefineryError(.usage, "unknown --baseline '\(baseline)'; use " + Objective.Baseline.allCases.map(\.rawValue).joined(separator: ", "))
        }
        guard let b = beta == "inf" ? Double.infinity : Double(beta) else {
            throw RefineryError(.usage, "--beta must be a number above 0 or inf, got '\(beta)'")
        }
        config.objective.kind = kind
        config.objective.baseline = base
        config.objective.beta = b
        config.objective.maxWeight = maxWeight
        config.objective.normalize = normalize
        config.rewardNoise = noise
        config.noiseSeed = noiseSeed
        config.seed = seed
        config.epochs = epochs
        config.batchRows = batchRows
        config.learningRate = learningRate
        config.minLearningRate = minLearningRate
        config.warmup = warmup
        config.layers = layers
        config.heads = heads
        config.width = width
        config.context = context
        config.minCount = minCount
        try config.validate()
        return (config, try TemporalSplit.parse(split))
    }

    private func makeFolder(_ path: String) throws {
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw RefineryError(.output, "cannot create the output folder: \((error as NSError).localizedDescription)", at: SourceLocation(file: path))
        }
    }

    private func write(_ data: Data, to path: String) throws {
        do { try data.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw RefineryError(.output, "cannot write: \((error as NSError).localizedDescription)", at: SourceLocation(file: path))
        }
    }
}
