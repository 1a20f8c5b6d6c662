import Foundation
import RefineryCatalog
import RefineryCodecs
import RefineryRecords
import RefineryShards

/// What one map task did (`refinery run SPEC --phase map --task-index I --task-count N`).
public struct MapTaskResult: Sendable {
    public var task: Int
    public var taskCount: Int
    /// The units the task owns, those it read now, and those committed before (by an earlier attempt).
    public var units: Int
    public var committed: Int
    public var reused: Int
    /// Records read and input bytes, over the units read now.
    public var records: Int
    public var inputBytes: Int
    public var seconds: Double
    /// The dataset folder already holds this version: nothing to map.
    public var upToDate = false
    /// Where the units were committed.
    public var workDirectory: String
}

extension Engine {
    /// Runs the map phase's task `options.phase` (``RunPhase/map(task:of:)``): reads, stages and commits its share
    /// of the units (``TaskPartition``), each under `.work/` with a marker (never the catalog, which tasks on many
    /// hosts cannot share; it is only read, for incremental runs, when it exists). Units an earlier attempt of the
    /// task committed are skipped. Two processes never run the same task at once: each task has its own lock.
    /// - Throws: ``RefineryError``: the same task is running (code `busy`), an input is unreadable or changed, a
    ///   write failed. The units committed before the failure stay committed.
    public func runMapTask() throws -> MapTaskResult {
        guard case .map(let task, let count) = options.phase, count >= 1, (0..<count).contains(task) else {
            throw RefineryError(.usage, "a map task needs a task index from 0 to the task count - 1 (got \(options.phase))")
        }
        let started = Date()
        let start = try startTask("map", task: task, of: count)
        defer { start.lock.release() }
        let plan = start.plan
        let dataset = plan.spec.output.dataset
        let work = UnitStore.folder(root: plan.spec.output.root)
        let all = WorkUnit.units(of: plan)
        let share = TaskPartition.assign(all, tasks: count)[task].map { all[$0] }
        var result = MapTaskResult(task: task, taskCount: count, units: share.count, committed: 0, reused: 0, records: 0,
                                   inputBytes: 0, seconds: 0, workDirectory: work)
        if !options.force, let existing = try? Manifest.read(directory: plan.directory), existing.version == plan.version {
            result.upToDate = true
            return result
        }
        let engine = Engine(plan: plan, options: options, logger: logger)
        let store = try UnitStore(root: plan.spec.output.root, specHash: XXH3.hex(plan.spec.configHash),
                                  recorder: .markers(task: task, count: count), fileSystem: options.fileSystem, logger: logger)
        let monitor = RunMonitor(logger: logger, options: options.monitor, dataset: dataset, version: plan.version,
                                 totalBytes: share.reduce(0) { $0 + $1.bytes }, totalUnits: share.count)
        logger.info("map task started", metadata: ["task": "\(task)", "tasks": "\(count)", "units": "\(share.count)",
                                                   "dataset.version": "\(plan.version)", "workers": "\(options.workers)"])
        do {
            let totals = try engine.map(share, store: store, monitor: monitor, deliver: nil)
            result.committed = totals.committed
            result.reused = totals.reused
            result.records = totals.records
            result.inputBytes = totals.inputBytes
            result.seconds = Date().timeIntervalSince(started)
            monitor.finish(status: "succeeded", seconds: result.seconds, stages: [], written: 0, quarantined: 0, lastSuccess: nil)
            return result
        } catch {
            monitor.finish(status: "failed", seconds: Date().timeIntervalSince(started), stages: [], written: 0, quarantined: 0,
                           lastSuccess: nil)
            throw error
        }
    }
}
