import Foundation
import RefineryRecords

/// How much each training example counts in the weighted token NLL: behaviour cloning (`sft`), advantage-weighted
/// SFT (`asft`), reward-weighted behaviour cloning (`rwbc`) or filtered behaviour cloning (`filtered`).
public struct Objective: Codable, Equatable, Sendable {
    /// The weighting rule.
    public enum Kind: String, Codable, CaseIterable, Sendable {
        /// Weight 1.
        case sft
        /// `min(exp((r − b) / β), w_max)`.
        case asft
        /// Weight `r` (rewards are in [0, 1]; the baseline is not used).
        case rwbc
        /// Weight `1[r − b > 0]`.
        case filtered
    }

    /// What the reward is compared with: the advantage is `r − b`.
    public enum Baseline: String, Codable, CaseIterable, Sendable {
        /// `b = 0`.
        case none
        /// The mean reward of the example's category over the training data.
        case categoryMean = "category_mean"
        /// The mean reward of the examples in the same optimiser step.
        case batchMean = "batch_mean"
        /// An exponential moving average of past steps' mean rewards (the first step's mean to start).
        case ema
        /// The mean reward of the example's user over the training data (interaction data).
        case userMean = "user_mean"
        /// The mean reward of the example's item over the training data (interaction data).
        case itemMean = "item_mean"
    }

    /// The weighting rule.
    public var kind: Kind = .sft
    /// A-SFT's temperature; `.infinity` gives every example weight 1, exactly SFT.
    public var beta: Double = 1
    /// What rewards are compared with.
    public var baseline: Baseline = .none
    /// A-SFT's largest weight.
    public var maxWeight: Double = 20
    /// Divide the step's weights by their mean, so the learning rate means the same whatever the rewards.
    public var normalize: Bool = false
    /// The `ema` baseline's decay per step.
    public var emaDecay: Double = 0.9

    public init() {}

    /// Whether the rule reads rewards (every kind but `sft`).
    public var needsReward: Bool { kind != .sft }

    /// State that carries from step to step and into checkpoints (the `ema` baseline).
    public struct State: Codable, Equatable, Sendable {
        public var ema: Double?
        public init() {}
    }

    /// What a step's weights looked like, for the log.
    public struct WeightSummary: Codable, Equatable, Sendable {
        public var mean = 0.0
        public var max = 0.0
        /// The share of weights cut to `w_max`.
        public var clipped = 0.0
        /// Kish's effective sample size `(Σw)² / Σw²` over the examples.
        public var effectiveSampleSize = 0.0
        public var examples = 0
    }

    /// One example as the objective sees it.
    public struct Example: Sendable {
        public var reward: Double?
        /// The key the group-mean baselines look up (category, user or item), if any.
        public var group: String?
        public init(reward: Double?, group: String?) {
            self.reward = reward
            self.group = group
        }
    }

    /// The weights of one optimiser step's examples.
    /// - Parameters:
    ///   - groupMeans: the training data's mean reward per group, for `category_mean`, `user_mean`, `item_mean`.
    ///   - state: the `ema` baseline, advanced by this step.
    /// - Throws: ``RefineryError`` (code `input`) when the rule needs a reward an example lacks.
    public func weights(_ examples: [Example], groupMeans: [String: Double], state: inout State) throws -> (weights: [Double], summary: WeightSummary) {
        var summary = WeightSummary()
        summary.examples = examples.count
        guard !examples.isEmpty else { return ([], summary) }
        if kind == .sft {
            summary.mean = 1; summary.max = 1; summary.effectiveSampleSize = Double(examples.count)
            return (Array(repeating: 1, count: examples.count), summary)
        }
        var rewards: [Double] = []
        rewards.reserveCapacity(examples.count)
        for example in examples {
            guard let r = example.reward else {
                throw RefineryError(.input, "objective '\(kind.rawValue)' needs a reward on every example; one has none "
                    + "(set data.missing_reward: skip to leave such records out)")
            }
            rewards.append(r)
        }
        let stepMean = rewards.reduce(0, +) / Double(rewards.count)
        let baselines: [Double]
        switch baseline {
        case .none: baselines = Array(repeating: 0, count: rewards.count)
        case .batchMean: baselines = Array(repeating: stepMean, count: rewards.count)
        case .ema:
            let b = state.ema ?? stepMean
            baselines = Array(repeating: b, count: rewards.count)
            state.ema = emaDecay * b + (1 - emaDecay) * stepMean
        case .categoryMean, .userMean, .itemMean:
            baselines = examples.map { example in example.group.flatMap { groupMeans[$0] } ?? stepMean }
        }
        var weights = [Double](repeating: 0, count: rewards.count)
        var clipped = 0
        for i in rewards.indices {
            let advantage = rewards[i] - baselines[i]
            switch kind {
            case .sft: weights[i] = 1
            case .asft:
                // β = ∞ is SFT exactly, whatever w_max.
                guard !beta.isInfinite else { weights[i] = 1; continue }
                let w = Foundation.exp(advantage / beta)
                if w > maxWeight { clipped += 1 }
                weights[i] = Swift.min(w, maxWeight)
            case .rwbc: weights[i] = rewards[i]
            case .filtered: weights[i] = advantage > 0 ? 1 : 0
            }
        }
        if normalize {
            let mean = weights.reduce(0, +) / Double(weights.count)
            if mean > 0 { weights = weights.map { $0 / mean } }
        }
        let sum = weights.reduce(0, +), squares = weights.reduce(0) { $0 + $1 * $1 }
        summary.mean = sum / Double(weights.count)
        summary.max = weights.max() ?? 0
        summary.clipped = Double(clipped) / Double(weights.count)
        summary.effectiveSampleSize = squares > 0 ? sum * sum / squares : 0
        return (weights, summary)
    }
}
