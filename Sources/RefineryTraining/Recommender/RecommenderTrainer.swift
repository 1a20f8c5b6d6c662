import Foundation
import RefineryRecords

/// Trains the decoder of ``GPT`` for next-item prediction over item tokens, each target position weighted by the
/// objective from its own event's reward (A-SFT per target position).
///
/// Every step takes `batchRows` windows in a per-epoch shuffle; the weights of the step's target positions come
/// from ``Objective/weights(_:groupMeans:state:)`` with the `user_mean` baseline keyed by user and `item_mean` by
/// item (means over the training rewards, noise included); the loss is `Σ w · nll / targets` over the step. A
/// step whose loss or gradient is not finite is skipped and counted; gradients are clipped to `clip`.
public enum RecommenderTrainer {
    /// One step, as written to the log.
    public struct StepRecord: Codable, Sendable {
        public var step: Int
        public var epoch: Int
        public var loss: Double
        public var nll: Double
        public var learningRate: Double
        public var gradientNorm: Double
        public var targets: Int
        public var skipped: Bool
        public var weights: Objective.WeightSummary
    }

    /// What a training run did (no timings, so the same inputs give the same summary).
    public struct Summary: Codable, Sendable {
        public var windows = 0
        public var steps = 0
        public var skippedNonFinite = 0
        public var finalLoss = Double.nan
        /// Target positions trained on (in steps not skipped).
        public var targets = 0
    }

    /// Mean training reward per user (`user_mean`) or per item (`item_mean`); empty for the other baselines.
    public static func groupMeans(_ training: [TrainingSequence], baseline: Objective.Baseline) -> [String: Double] {
        var sums: [String: (Double, Int)] = [:]
        for sequence in training {
            for (item, reward) in zip(sequence.items, sequence.rewards) {
                let key: String
                switch baseline {
                case .userMean: key = sequence.user
                case .itemMean: key = item
                case .categoryMean: key = ""
                default: continue
                }
                sums[key, default: (0, 0)].0 += reward
                sums[key, default: (0, 0)].1 += 1
            }
        }
        return sums.mapValues { $0.0 / Double($0.1) }
    }

    /// Trains a model from scratch.
    /// - Parameter onStep: receives every step's record.
    /// - Throws: ``RefineryError``: code `usage` for an unusable configuration; `input` when no training event has an
    ///   item token to predict, or the objective needs a reward an event lacks.
    public static func train(data: RecommenderData, vocabulary: ItemVocabulary, config: RecommenderConfig,
                             onStep: (StepRecord) -> Void = { _ in }) throws -> (model: GPT, summary: Summary) {
        try config.validate()
        let windows = RecommenderWindow.cut(data.train, vocabulary: vocabulary, context: config.context)
        guard windows.contains(where: { $0.targets.contains { $0 >= 0 } }) else {
            throw RefineryError(.input, "nothing to train on: \(data.trainingEvents) training events, none of an item with a token of its own"
                + (data.cutoff.map { " (the time split's cut-off is \($0); a larger quantile leaves more events before it)" } ?? "")
                + (vocabulary.items.isEmpty ? "; no item has --min-count \(vocabulary.minCount) training events" : ""))
        }
        let modelConfig = config.model(vocabularySize: vocabulary.count)
        try Matmul.load()
        let model = GPT(config: modelConfig, seed: config.seed)
        let optimizer = AdamW(layout: model.layout, settings: config.adam)
        let perEpoch = (windows.count + config.batchRows - 1) / config.batchRows
        let total = perEpoch * config.epochs
        let schedule = LearningRateSchedule(peak: config.learningRate, floor: config.minLearningRate,
                                            warmupSteps: min(config.warmup, total), totalSteps: total)
        let means = groupMeans(data.train, baseline: config.objective.baseline)
        var objectiveState = Objective.State()
        var summary = Summary()
        summary.windows = windows.count
        for epoch in 0..<config.epochs {
            let order = DataStream.order(count: windows.count, seed: config.seed, dataset: 0, epoch: epoch)
            for first in stride(from: 0, to: order.count, by: config.batchRows) {
                let chosen = order[first..<min(order.count, first + config.batchRows)].map { windows[$0] }
                var examples: [Objective.Example] = []
                for window in chosen {
                    for j in window.targets.indices where window.targets[j] >= 0 {
                        let group: String?
                        switch config.objective.baseline {
                        case .userMean: group = data.train[window.sequence].user
                        case .itemMean: group = window.items[j]
                        case .categoryMean: group = ""
                        default: group = nil
                        }
                        examples.append(Objective.Example(reward: window.rewards[j], group: group))
                    }
                }
                let step = summary.steps
                let rate = schedule.rate(at: step)
                summary.steps += 1
                guard !examples.isEmpty else { continue }
                let (flat, weightSummary) = try config.objective.weights(examples, groupMeans: means, state: &objectiveState)
                var k = 0
                let weights: [[Float]] = chosen.map { window in
                    window.targets.map { t in
                        guard t >= 0 else { return 0 }
                        defer { k += 1 }
                        return Float(flat[k])
                    }
                }
                let batch = TokenBatch(rows: chosen.map(\.inputs), targets: chosen.map(\.targets), weights: weights, context: config.context)
                model.zeroGradients()
                let loss = model.forward(batch, gradientScale: 1 / Float(examples.count))
                model.backward()
                let norm = AdamW.globalNorm(model.gradients)
                let meanLoss = loss.weightedSum / Double(examples.count)
                let healthy = meanLoss.isFinite && norm.isFinite
                if healthy {
                    if norm > config.clip { AdamW.scale(model.gradients, by: Float(config.clip / norm)) }
                    optimizer.step(parameters: model.parameters, gradients: model.gradients, rate: Float(rate))
                    summary.finalLoss = meanLoss
                    summary.targets += examples.count
                } else {
                    summary.skippedNonFinite += 1
                }
                onStep(StepRecord(step: step, epoch: epoch, loss: meanLoss, nll: loss.plainSum / Double(examples.count), learningRate: rate,
                                  gradientNorm: norm, targets: examples.count, skipped: !healthy, weights: weightSummary))
            }
        }
        return (model, summary)
    }
}
