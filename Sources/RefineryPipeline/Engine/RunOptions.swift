import Foundation
import RefineryCatalog
import RefineryShards

/// How to run a plan on this machine. None of these change the output.
public struct RunOptions: Sendable {
    /// Worker threads for decoding, stages and compression; default: every core.
    public var workers: Int
    /// Replace a dataset folder that already holds a manifest.
    public var force: Bool
    /// Read every input, also those a published version of the dataset already holds (`--full`).
    public var full: Bool
    /// Discard the work units an interrupted run committed instead of resuming from them (`--restart`).
    public var restart: Bool
    /// Write `report.html` (and the report's numbers in `stats.json`) once the dataset is written.
    public var report: Bool
    /// Which phases this process runs (``RunPhase``); every phase by default.
    public var phase: RunPhase = .all
    /// The dataset version this process must be planning (`--expect-version`, in the job scripts of a submission):
    /// another one means the inputs or the spec changed since the submission, and the task refuses to run.
    public var expectedVersion: String?
    /// Progress lines, log format and the metrics file.
    public var monitor: MonitorOptions
    /// The command line, for the catalog's record of the run.
    public var command: String
    /// Where files are written; tests inject failures here.
    public var fileSystem: any OutputFileSystem

    public init(workers: Int = ProcessInfo.processInfo.activeProcessorCount, force: Bool = false, full: Bool = false,
                restart: Bool = false, report: Bool = true, monitor: MonitorOptions = MonitorOptions(isTerminal: false),
                command: String = Catalog.currentCommand,
                fileSystem: any OutputFileSystem = POSIXFileSystem()) {
        self.workers = max(1, workers)
        self.force = force
        self.full = full
        self.restart = restart
        self.report = report
        self.monitor = monitor
        self.command = command
        self.fileSystem = fileSystem
    }
}
