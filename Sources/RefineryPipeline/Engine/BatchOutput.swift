import RefineryReport
import RefineryShards

/// What a worker made of one batch: compressed pieces for each output, and the counters of every stage.
struct BatchOutput: Sendable {
    var index: Int
    /// The spec source the batch came from.
    var sourceIndex: Int
    var train = ShardPiece()
    var validation = ShardPiece()
    /// Reject pieces by stage name (`read` for units that never became records).
    var rejects: [String: ShardPiece] = [:]
    /// `read` first, then one per stage in spec order.
    var counters: [StageCounters] = []
    /// Seconds spent per phase on the worker: `read` (decode), each stage, `write` (serialise and compress).
    var seconds: [Double] = []
    /// The surviving records, when the run has global stages (dedup): spilled instead of split into shards.
    var spill: SpillPiece?
    /// Drops made by the global stages in this batch, as `stage.reason` (written when the spill is finalised).
    var globalDropped: [String: Int] = [:]
    /// What a finalize worker tallied of the batch for the run's report, when its job asked
    /// (``FinalizeJob/reportStart``). Not kept in any file.
    var reportTally: BatchReportTally?
    /// A failure inside the worker (a zstd error): stops the run.
    var failure: String?
}

/// What a finalize worker tallied of one batch for the run's report (``ReportTallies``): its kept records, train and
/// validation apart, and the global stages' rejects, by stage.
struct BatchReportTally: Sendable {
    var train: KeptTally
    var validation: KeptTally
    var rejects: [String: RejectsTally] = [:]
}
