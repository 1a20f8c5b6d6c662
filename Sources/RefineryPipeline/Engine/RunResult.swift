import RefineryReport
import RefineryShards

/// What a run did.
public struct RunResult: Sendable {
    /// `true` when nothing was written: the folder already held this exact version, or (``nothingNew``) every
    /// input is already in a published version, whose manifest `manifest` then is.
    public var upToDate: Bool
    public var manifest: Manifest
    public var directory: String
    /// Wall-clock seconds.
    public var seconds: Double
    /// Bytes read from input files.
    public var inputBytes: Int
    /// Work units taken from an interrupted run instead of being read again.
    public var unitsReused = 0
    /// Inputs skipped because a published version already holds them (incremental runs).
    public var skippedInputs = 0
    /// Every input was already published: nothing to read.
    public var nothingNew = false
    /// Seconds spent per stage, `read` (decoding) first, on every worker together.
    public var stageSeconds: [Double] = []
    /// The run's id in the catalog.
    public var runID: Int64 = 0
    /// What the run tallied of the data shards it wrote, for their report (runs with global stages).
    var reportTallies: ReportTallies?
}
