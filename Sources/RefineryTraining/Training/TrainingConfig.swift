import Foundation
import RefineryCodecs
import RefineryRecords
import RefinerySpec

/// A training run as `refinery train CONFIG.yaml` reads it: data, model, objective, schedule, health checks,
/// checkpoints. Paths are relative to the file. Unknown keys are errors that name the key and line.
public struct TrainingConfig: Codable, Equatable, Sendable {
    public struct Dataset: Codable, Equatable, Sendable {
        public var path: String
        public var weight: Double = 1
        public var split: String = "train"
    }

    public struct Schedule: Codable, Equatable, Sendable {
        public var steps = 100
        public var batchRows = 8
        /// Micro-batches per update; the loss is normalised by the targets of all of them.
        public var accumulation = 1
        public var learningRate = 3e-4
        public var minLearningRate = 3e-5
        public var warmup = 10
        public var clip = 1.0
        public var adam = AdamW.Settings()
        /// Seeds the weights and the data order.
        public var seed: UInt64 = 1
    }

    public struct Health: Codable, Equatable, Sendable {
        /// Steps of loss history the spike test looks at.
        public var spikeWindow = 128
        /// A step whose loss is this many standard deviations above the window's mean is a spike.
        public var spikeZ = 6.0
        /// Steps of history before spikes are tested for.
        public var spikeMinHistory = 16
        /// Spikes within `spikeWindow` steps that trigger a rollback to the last checkpoint.
        public var rollbackAfter = 3
        /// The learning rate is multiplied by this at each rollback.
        public var rollbackRateFactor = 0.5
        /// Rollbacks before the run stops with an error.
        public var maxRollbacks = 3
    }

    /// A deliberately damaged batch, for testing the health checks on a real run.
    public struct Poison: Codable, Equatable, Sendable {
        public enum Kind: String, Codable, CaseIterable, Sendable {
            /// A NaN weight: loss and gradients become NaN.
            case nan
            /// Every target replaced by another token: the loss jumps.
            case spike
        }
        /// The global batch number (0 is the first batch drawn).
        public var batch: Int
        public var kind: Kind
    }

    public var name: String
    /// The run's folder: checkpoints, `log.jsonl`, the tokenizer when trained here.
    public var output: String
    public var datasets: [Dataset]
    /// A folder with `vocab.json` and `merges.txt`; trained from the first dataset when missing.
    public var tokenizer: String
    /// The vocabulary size when the tokenizer is trained here.
    public var tokenizerVocabulary = 4096
    /// `true`: records without a reward are left out under a reward-weighted objective; `false`: they are an error.
    public var skipMissingReward = false
    public var model: GPTConfig
    public var objective = Objective()
    public var schedule = Schedule()
    public var health = Health()
    public var checkpointEvery = 50
    public var checkpointKeep = 3
    public var poison: [Poison] = []
    /// The catalog to record the run in; `nil`: the one beside the first dataset that lists it.
    public var catalog: String?

    /// Loads and checks a configuration file.
    /// - Throws: ``RefineryError`` (code `spec`) naming the file, line and key of the first problem.
    public static func load(path: String) throws -> TrainingConfig {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw RefineryError(.spec, "cannot read the training configuration", at: SourceLocation(file: path))
        }
        let base = URL(fileURLWithPath: path).standardizedFileURL.deletingLastPathComponent().path
        return try parse(yaml: text, file: path, baseDirectory: base)
    }

    /// Parses configuration text; relative paths resolve against `baseDirectory`.
    public static func parse(yaml: String, file: String, baseDirectory: String) throws -> TrainingConfig {
        let top = try SpecNode.root(yaml: yaml, file: file)
            .table(allowed: ["name", "output", "data", "model", "objective", "schedule", "health", "checkpoints", "debug", "catalog"])
        func resolve(_ node: SpecNode) throws -> String {
            let path = try node.string()
            return path.hasPrefix("/") ? path : URL(fileURLWithPath: baseDirectory).appendingPathComponent(path).standardizedFileURL.path
        }
        let data = try top.require("data").table(allowed: ["datasets", "tokenizer", "vocab", "missing_reward"])
        var datasets: [Dataset] = []
        for item in try data.require("datasets").list() {
            let t = try item.table(allowed: ["path", "weight", "split"])
            var d = Dataset(path: try resolve(try t.require("path")))
            if let w = t.optional("weight") {
                d.weight = try w.double()
                guard d.weight > 0 && d.weight.isFinite else { throw w.error("weight must be a positive number") }
            }
            if let s = t.optional("split") { d.split = try s.string() }
            datasets.append(d)
        }
        guard !datasets.isEmpty else { throw try data.require("datasets").error("list at least one dataset folder") }
        let m = try top.require("model").table(allowed: ["layers", "heads", "width", "context"])
        let model = GPTConfig(vocabularySize: 0, context: try m.optional("context")?.int() ?? 256,
                              layers: try m.optional("layers")?.int() ?? 6, heads: try m.optional("heads")?.int() ?? 6,
                              width: try m.optional("width")?.int() ?? 384)
        var probe = model
        probe.vocabularySize = 1
        do { try probe.validate() } catch let error as RefineryError { throw top.owner.error("model: \(error.message)") }
        var config = TrainingConfig(name: try top.require("name").string(), output: try resolve(try top.require("output")),
                                    datasets: datasets, tokenizer: try resolve(try data.require("tokenizer")), model: model)
        if let v = data.optional("vocab") {
            config.tokenizerVocabulary = try v.int()
            let minimum = 256 + BPETokenizer.defaultSpecialTokens.count
            guard config.tokenizerVocabulary >= minimum else { throw v.error("vocab must be at least \(minimum) (256 bytes + special tokens)") }
        }
        if let node = data.optional("missing_reward") {
            switch try node.string() {
            case "error": config.skipMissingReward = false
            case "skip": config.skipMissingReward = true
            case let other: throw node.error("missing_reward is 'error' or 'skip', not '\(other)'")
            }
        }
        if let node = top.optional("objective") {
            let o = try node.table(allowed: ["kind", "beta", "baseline", "w_max", "normalize", "ema_decay"])
            if let k = o.optional("kind") { config.objective.kind = try k.choice(Objective.Kind.self, named: "objective kind") }
            if let b = o.optional("beta") {
                config.objective.beta = (try? b.string()).map { ["inf", ".inf", "infinity"].contains($0.lowercased()) } == true ? .infinity : try b.double()
                guard config.objective.beta > 0 else { throw b.error("beta must be positive (or inf for plain SFT)") }
            }
            if let b = o.optional("baseline") { config.objective.baseline = try b.choice(Objective.Baseline.self, named: "baseline") }
            if let w = o.optional("w_max") {
                config.objective.maxWeight = try w.double()
                guard config.objective.maxWeight > 0 else { throw w.error("w_max must be positive") }
            }
            if let n = o.optional("normalize") { config.objective.normalize = try n.bool() }
            if let e = o.optional("ema_decay") {
                config.objective.emaDecay = try e.double()
                guard (0..<1).contains(config.objective.emaDecay) else { throw e.error("ema_decay must be in [0, 1)") }
            }
        }
        if let node = top.optional("schedule") {
            let s = try node.table(allowed: ["steps", "batch_rows", "accumulation", "learning_rate", "min_learning_rate", "warmup",
                                             "clip", "weight_decay", "beta1", "beta2", "seed"])
            func positive(_ key: String) throws -> Int? {
                guard let n = s.optional(key) else { return nil }
                let value = try n.int()
                guard value > 0 else { throw n.error("\(key) must be positive") }
                return value
            }
            if let v = try positive("steps") { config.schedule.steps = v }
            if let v = try positive("batch_rows") { config.schedule.batchRows = v }
            if let v = try positive("accumulation") { config.schedule.accumulation = v }
            if let v = s.optional("learning_rate") { config.schedule.learningRate = try v.double() }
            if let v = s.optional("min_learning_rate") { config.schedule.minLearningRate = try v.double() }
            if let v = s.optional("warmup") { config.schedule.warmup = try v.int() }
            if let v = s.optional("clip") {
                config.schedule.clip = try v.double()
                guard config.schedule.clip > 0 else { throw v.error("clip must be a positive gradient norm") }
            }
            if let v = s.optional("weight_decay") { config.schedule.adam.weightDecay = Float(try v.double()) }
            for (key, path) in [("beta1", \AdamW.Settings.beta1), ("beta2", \AdamW.Settings.beta2)] {
                guard let v = s.optional(key) else { continue }
                let value = try v.double()
                guard (0..<1).contains(value) else { throw v.error("\(key) must be in [0, 1)") }
                config.schedule.adam[keyPath: path] = Float(value)
            }
            if let v = s.optional("seed") {
                guard let seed = UInt64(exactly: try v.int()) else { throw v.error("seed must be 0 or a positive integer") }
                config.schedule.seed = seed
            }
            for (key, value) in [("learning_rate", config.schedule.learningRate), ("min_learning_rate", config.schedule.minLearningRate)]
            where !(value >= 0 && value.isFinite) {
                throw try s.require(key).error("\(key) must be 0 or more")
            }
            if config.schedule.warmup < 0 { throw try s.require("warmup").error("warmup must be 0 or more") }
        }
        if let node = top.optional("health") {
            let h = try node.table(allowed: ["spike_window", "spike_z", "spike_min_history", "rollback_after", "rollback_lr_factor", "max_rollbacks"])
            func atLeast(_ key: String, _ minimum: Int) throws -> Int? {
                guard let n = h.optional(key) else { return nil }
                let value = try n.int()
                guard value >= minimum else { throw n.error("\(key) must be at least \(minimum)") }
                return value
            }
            if let v = try atLeast("spike_window", 1) { config.health.spikeWindow = v }
            if let v = try atLeast("spike_min_history", 1) { config.health.spikeMinHistory = v }
            if let v = try atLeast("rollback_after", 1) { config.health.rollbackAfter = v }
            if let v = try atLeast("max_rollbacks", 0) { config.health.maxRollbacks = v }
            if let v = h.optional("spike_z") {
                config.health.spikeZ = try v.double()
                guard config.health.spikeZ > 0 else { throw v.error("spike_z must be positive") }
            }
            if let v = h.optional("rollback_lr_factor") {
                config.health.rollbackRateFactor = try v.double()
                guard config.health.rollbackRateFactor > 0 && config.health.rollbackRateFactor <= 1 else {
                    throw v.error("rollback_lr_factor must be in (0, 1]")
                }
            }
        }
        if let node = top.optional("checkpoints") {
            let c = try node.table(allowed: ["every", "keep"])
            if let v = c.optional("every") { config.checkpointEvery = max(1, try v.int()) }
            if let v = c.optional("keep") { config.checkpointKeep = max(1, try v.int()) }
        }
        config.catalog = try top.optional("catalog").map(resolve)
        if let node = top.optional("debug") {
            let d = try node.table(allowed: ["poison"])
            for item in try d.optional("poison")?.list() ?? [] {
                let p = try item.table(allowed: ["batch", "kind"])
                config.poison.append(Poison(batch: try p.require("batch").int(), kind: try p.require("kind").choice(Poison.Kind.self, named: "poison kind")))
            }
        }
        return config
    }

    /// XXH3 of the configuration's canonical JSON without its output folder (so a moved run still resumes) and
    /// catalog (where the run is recorded does not change it), recorded in checkpoints so a resume with another
    /// configuration is refused.
    public var hash: String {
        var copy = self
        copy.output = ""
        copy.catalog = nil
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let bytes = (try? encoder.encode(copy)).map { [UInt8]($0) } ?? []
        return XXH3.hex(XXH3.hash(bytes))
    }
}
