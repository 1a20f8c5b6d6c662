import Foundation
import RefineryCatalog

/// How far a submission got (`refinery status`): per map task, its units committed (from the catalog and the
/// tasks' markers) and its state in Slurm; the reduce job's state; whether the dataset version is written.
public struct SubmissionStatus: Sendable {
    public struct Task: Sendable {
        public var index: Int
        public var units: Int
        public var committed: Int
        /// Slurm's state of this task in this submission's array job, when Slurm still knows it; nil for a task this
        /// submission did not ask for (done before) or that Slurm forgot.
        public var state: String?
        public var exitCode: String?
        /// Its log file, when this submission ran it.
        public var log: String?
        /// Slurm reports it ended without success (even if it had committed all its units by then).
        public var failed = false
        /// Queued or running.
        public var active = false

        public var isDone: Bool { committed == units }
    }

    /// One task of the dedup array: Slurm's state, and whether its band file is written.
    public struct DedupTask: Sendable {
        public var index: Int
        public var state: String?
        public var reason: String?
        public var written: Bool
    }

    public var submission: Catalog.Submission
    public var tasks: [Task]
    /// The dedup array's tasks (none when the submission has no dedup phase).
    public var dedupTasks: [DedupTask] = []
    /// The resolve job's state and reason, and each finalize task's state (none without global stages).
    public var resolveState: String?
    public var resolveReason: String?
    public var finalizeStates: [String?] = []
    public var reduceState: String?
    public var reduceReason: String?
    public var reduceLog: String
    /// The version's catalog record, once the reduce wrote it.
    public var written: VersionRecord?

    /// Map tasks with units left that are not queued or running: what a resubmission runs.
    public var unfinishedTasks: [Int] { tasks.filter { !$0.isDone && !$0.active }.map(\.index) }

    /// Map tasks Slurm reports as ended without success.
    public var failedTasks: [Int] { tasks.filter(\.failed).map(\.index) }

    /// Reads the submission's progress from the catalog, the `.work/` markers and Slurm (`scontrol show job`).
    public static func read(_ submission: Catalog.Submission, catalog: Catalog) throws -> SubmissionStatus {
        let written = try catalog.version(dataset: submission.dataset, version: submission.version)
        let committed = written != nil ? nil : try UnitStore.committedKeys(root: submission.workRoot, specHash: submission.specHash, catalog: catalog)
        let states = (try? SlurmCommand.states(of: [submission.mapJob, submission.dedupJob, submission.resolveJob, submission.finalizeJob,
                                                    submission.reduceJob].compactMap { $0 })) ?? [:]
        let logs = (submission.scriptsDirectory as NSString).appendingPathComponent("logs")
        let tasks = submission.taskUnits.enumerated().map { index, keys in
            let state = submission.mapJob.flatMap { states["\($0)_\(index)"] }
            return Task(index: index, units: keys.count, committed: committed.map { done in keys.filter(done.contains).count } ?? keys.count,
                        state: state?.state, exitCode: state?.exitCode,
                        log: submission.mapTasks.contains(index) ? "\(logs)/map-\(submission.id)-\(index).out" : nil,
                        failed: state?.isFailed ?? false, active: state?.isActive ?? false)
        }
        let dedupTasks = (0..<submission.dedupTasks).map { index in
            let state = submission.dedupJob.flatMap { states["\($0)_\(index)"] }
            let file = BandFiles.path(root: submission.workRoot, version: submission.version, task: index, of: submission.dedupTasks)
            return DedupTask(index: index, state: state?.state, reason: state?.reason,
                             written: written != nil || BandFiles.trailer(at: file)?.0.specHash == submission.specHash)
        }
        let reduce = states[submission.reduceJob]
        let resolve = submission.resolveJob.flatMap { states[$0] }
        let finalizeStates = (0..<submission.finalizeTasks).map { index in submission.finalizeJob.flatMap { states["\($0)_\(index)"]?.state } }
        return SubmissionStatus(submission: submission, tasks: tasks, dedupTasks: dedupTasks, resolveState: resolve?.state,
                                resolveReason: resolve?.reason, finalizeStates: finalizeStates, reduceState: reduce?.state,
                                reduceReason: reduce?.reason, reduceLog: "\(logs)/reduce-\(submission.id).out", written: written)
    }
}
