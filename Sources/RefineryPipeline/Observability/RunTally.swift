import RefineryShards

/// What a run has done so far: the numbers the metrics file reports.
struct RunTally {
    /// `running` until the run ends, then what the caller says (`succeeded`, `failed`, …).
    var status = "running"
    var seconds = 0.0
    var bytesRead = 0
    var recordsRead = 0
    /// Units finished, reused ones included.
    var unitsDone = 0
    /// Units loaded from an interrupted run's committed work rather than read again.
    var unitsReused = 0
    /// Cumulative per-stage counters, as last reported.
    var stages: [StageCounters] = []
    /// Seconds per phase, in the order they started; the last one so far while it runs.
    var phases: [(name: String, seconds: Double)] = []
    /// Records written and quarantined, known when the run ends.
    var output: (written: Int, quarantined: Int)?
    /// Unix seconds of the dataset's last successful run, when known.
    var lastSuccess: Double?
}
