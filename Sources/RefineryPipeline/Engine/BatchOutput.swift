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
    /// What the report reads of the records a finalize worker kept, train and validation apart (when its job asked:
    /// ``FinalizeJob/samplesTaken``). Not kept in any file.
    var keptTally: (train: KeptTally, validation: KeptTally)?
    /// A failure inside the worker (a zstd error): stops the run.
    var failure: String?
}
