import Foundation
import RefineryRecords

/// How a generative recommender is trained: the decoder's shape, the objective (weighing each target position by
/// its own event's reward) and the schedule.
public struct RecommenderConfig: Codable, Equatable, Sendable {
    /// Transformer blocks.
    public var layers = 2
    /// Attention heads per block.
    public var heads = 2
    /// The residual stream's width.
    public var width = 64
    /// Positions per window: the most recent items the model reads.
    public var context = 50
    /// The per-position objective (`sft`, `asft`, `rwbc`, `filtered`, with their baselines); weights normalised
    /// to mean 1 per step by default, so the learning rate means the same for every objective.
    public var objective: Objective = { var o = Objective(); o.normalize = true; return o }()
    /// Passes over the training windows.
    public var epochs = 20
    /// Windows per optimiser step.
    public var batchRows = 32
    /// Peak learning rate, reached after `warmup` steps; cosine decay to `minLearningRate` at the last step.
    public var learningRate = 2e-3
    public var minLearningRate = 2e-4
    public var warmup = 20
    /// Global gradient-norm clip.
    public var clip = 1.0
    /// AdamW's settings.
    public var adam = AdamW.Settings()
    /// Seeds the weights and the window order.
    public var seed: UInt64 = 1
    /// Items need this many training events to get a token of their own.
    public var minCount = 1
    /// Standard deviation of the Gaussian noise added to training rewards (the noise study), 0 for none.
    public var rewardNoise = 0.0
    /// Seeds the reward noise (separately from `seed`, so the same noise meets every objective).
    public var noiseSeed: UInt64 = 7

    public init() {}

    /// The decoder's shape for a vocabulary.
    public func model(vocabularySize: Int) -> GPTConfig {
        GPTConfig(vocabularySize: vocabularySize, context: context, layers: layers, heads: heads, width: width)
    }

    /// - Throws: ``RefineryError`` (code `usage`) naming the first setting that cannot train.
    public func validate() throws {
        try model(vocabularySize: 3).validate()
        for (name, value) in [("epochs", epochs), ("batch rows", batchRows), ("min count", minCount)] where value < 1 {
            throw RefineryError(.usage, "\(name) must be at least 1, got \(value)")
        }
        guard context >= 2 else { throw RefineryError(.usage, "context must be at least 2, got \(context)") }
        guard learningRate > 0, minLearningRate >= 0, minLearningRate <= learningRate, warmup >= 0 else {
            throw RefineryError(.usage, "learning rates must satisfy 0 ≤ min ≤ peak and peak > 0 (got \(minLearningRate), \(learningRate)); warm-up ≥ 0")
        }
        guard rewardNoise >= 0, rewardNoise.isFinite else { throw RefineryError(.usage, "reward noise must be ≥ 0, got \(rewardNoise)") }
        guard objective.maxWeight > 0, !objective.maxWeight.isNaN else {
            throw RefineryError(.usage, "w_max must be above 0, got \(objective.maxWeight)")
        }
        guard objective.kind != .asft || objective.beta > 0 else {
            throw RefineryError(.usage, "A-SFT's beta must be above 0 (inf for SFT), got \(objective.beta)")
        }
    }
}
