import Foundation

/// Everything a run needs to continue exactly where a checkpoint left it, besides weights and AdamW's moments.
public struct TrainingState: Codable, Equatable, Sendable {
    /// Steps taken (updates and skipped steps).
    public var step = 0
    /// Updates AdamW has applied (its bias correction's `t`).
    public var optimizerSteps = 0
    /// Batches drawn from the data stream so far (global batch numbers start at 0).
    public var batchesDrawn = 0
    public var cursor: DataCursor
    public var objective = Objective.State()
    public var health: HealthMonitor
    /// Target tokens trained on.
    public var tokens = 0
    /// The training configuration's hash; a resume under another configuration is refused.
    public var configHash: String
    /// The length of `log.jsonl` when the checkpoint was taken: a resume cuts the log back to it, so steps
    /// redone after a kill are logged once.
    public var logBytes = 0
}

/// One line of `log.jsonl`: what a step did.
public struct StepRecord: Codable, Sendable {
    public var step: Int
    /// Weighted NLL over the step's targets (the objective being optimised).
    public var loss: Double
    /// Unweighted NLL over the same targets.
    public var nll: Double
    public var learningRate: Double
    /// Global gradient norm before clipping.
    public var gradientNorm: Double
    public var tokensPerSecond: Double
    public var targets: Int
    /// `update`, `skip_nonfinite`, `skip_spike` or `rollback`.
    public var verdict: String
    public var weights: Objective.WeightSummary
}
