/// The checks that keep a long run alive: non-finite losses or gradients skip the update; a loss far above the
/// recent window (by z-score) skips the update; repeated spikes ask for a rollback to the last good checkpoint.
/// Its state goes into checkpoints, so a resumed run judges the next step exactly as the straight run would.
public struct HealthMonitor: Codable, Equatable, Sendable {
    /// What to do with a step.
    public enum Verdict: String, Sendable {
        case update
        case skipNonFinite = "skip_nonfinite"
        case skipSpike = "skip_spike"
        case rollback
    }

    public let settings: TrainingConfig.Health
    /// Losses of recent accepted steps, oldest first.
    public private(set) var window: [Double] = []
    /// A spike: the step and the global batch numbers it trained on.
    public struct Spike: Codable, Equatable, Sendable {
        public var step: Int
        public var batches: [Int]
    }

    /// Spikes within the last `spikeWindow` steps.
    public private(set) var recentSpikes: [Spike] = []
    public private(set) var nonFiniteSkips = 0
    public private(set) var spikeSkips = 0
    public var rollbacks = 0
    /// The learning rate's multiplier, lowered at each rollback.
    public var rateScale = 1.0
    /// Global batch numbers never to train on again (the batches of spikes that led to a rollback).
    public var skippedBatches: [Int] = []

    public init(settings: TrainingConfig.Health) { self.settings = settings }

    /// Judges step `step`, trained on global batch numbers `batches`, with mean loss `loss` and gradient norm
    /// `gradientNorm` before clipping.
    public mutating func judge(step: Int, batches: [Int], loss: Double, gradientNorm: Double) -> Verdict {
        guard loss.isFinite && gradientNorm.isFinite else {
            nonFiniteSkips += 1
            return .skipNonFinite
        }
        recentSpikes.removeAll { step - $0.step >= settings.spikeWindow }
        if window.count >= settings.spikeMinHistory {
            let mean = window.reduce(0, +) / Double(window.count)
            let variance = window.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(window.count)
            // A floor under the deviation keeps a flat, converged loss from calling small wiggles spikes.
            let deviation = max(variance.squareRoot(), 0.02 * abs(mean), 1e-6)
            if (loss - mean) / deviation > settings.spikeZ {
                spikeSkips += 1
                recentSpikes.append(Spike(step: step, batches: batches))
                return recentSpikes.count >= settings.rollbackAfter ? .rollback : .skipSpike
            }
        }
        window.append(loss)
        if window.count > settings.spikeWindow { window.removeFirst(window.count - settings.spikeWindow) }
        return .update
    }

    /// The state to continue with after rolling back to a checkpoint whose monitor was `restored`: the
    /// checkpoint's loss window, this run's counters, a lower learning rate, and the spikes' batches skipped.
    public func rolledBack(to restored: HealthMonitor) -> HealthMonitor {
        var next = restored
        next.nonFiniteSkips = nonFiniteSkips
        next.spikeSkips = spikeSkips
        next.rollbacks = rollbacks + 1
        next.rateScale = rateScale * settings.rollbackRateFactor
        next.skippedBatches = Array(Set(skippedBatches + recentSpikes.flatMap(\.batches))).sorted()
        next.recentSpikes = []
        return next
    }
}
