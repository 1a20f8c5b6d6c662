import Foundation
import RefineryCatalog
import RefineryCodecs
import RefineryRecords
import RefineryShards

/// What one finalize task did (`refinery run SPEC --phase finalize --task-index I --task-count N`).
public struct FinalizeTaskResult: Sendable {
    public var task: Int
    public var taskCount: Int
    /// The units the task owns, those it finalized now, and those finalized before (by an earlier attempt).
    public var units = 0
    public var finalized = 0
    public var reused = 0
    /// Records written to train and validation (copies counted), and quarantined by the global stages.
    public var written = 0
    public var dropped = 0
    public var seconds = 0.0
    public var nothingToDo: String?
}

extension Engine {
    /// Runs the finalize phase's task `options.phase` (``RunPhase/finalize(task:of:)``): for its share of the units
    /// (``TaskPartition``, as the map's), applies the resolution's fates to the unit's spilled records and makes
    /// their shard pieces (train, validation, the global stages' rejects) on `options.workers` threads, one file
    /// per unit with a marker naming the resolution and the unit file it came from. Units finalized from the same
    /// resolution before are skipped. Writes nothing to the catalog.
    /// - Throws: ``RefineryError``: the resolve phase has not run (code `resume`), a unit is not committed (code
    ///   `resume`), the same task is running (code `busy`), a file is damaged (code `integrity`), a write failed.
    public func runFinalizeTask() throws -> FinalizeTaskResult {
        guard case .finalize(let task, let count) = options.phase, count >= 1, (0..<count).contains(task) else {
            throw RefineryError(.usage, "a finalize task needs a task index from 0 to the task count - 1 (got \(options.phase))")
        }
        let started = Date()
        let start = try startTask("finalize", task: task, of: count)
        defer { start.lock.release() }
        let plan = start.plan
        let root = plan.spec.output.root
        var result = FinalizeTaskResult(task: task, taskCount: count)
        if let why = nothingToDo(plan, needsGlobalStages: true) {
            result.nothingToDo = why
            return result
        }
        let work = try Self.committedWork(plan, catalog: start.catalog)
        let (units, unitFiles) = (work.units, work.unitFiles)
        let directory = FinalizeFiles.directory(root: root, version: plan.version)
        // The engine of the task's plan (the incremental one, whose version the resolution is for).
        let engine = Engine(plan: plan, options: options, logger: logger)
        guard let (_, resolutionHash) = engine.currentResolution(unitFiles: unitFiles) else {
            throw RefineryError(.resume, "the resolve phase has not run for version \(plan.version) over the committed units: run "
                + "`refinery run SPEC --phase resolve` once the map (and dedup) tasks have succeeded, then the finalize tasks",
                at: SourceLocation(file: directory))
        }
        let share = TaskPartition.assign(units, tasks: count)[task].map { units[$0] }
        result.units = share.count
        logger.info("finalize task started", metadata: ["task": "\(task)", "tasks": "\(count)", "units": "\(share.count)",
                                                        "dataset.version": "\(plan.version)", "workers": "\(options.workers)"])
        for unit in share {
            let unitFile = unitFiles[unit.key]!
            if FinalizeFiles.finalized(unit.key, directory: directory, resolution: resolutionHash, unitFile: unitFile) != nil {
                result.reused += 1
                continue
            }
            let fatesPath = FinalizeFiles.path(directory, "\(unit.key).fates")
            guard let data = FileManager.default.contents(atPath: fatesPath) else {
                throw RefineryError(.integrity, "the resolution's fates of unit \(unit.name) are missing; run the resolve phase again with --force",
                                    at: SourceLocation(file: fatesPath))
            }
            let fates: [RecordFate]
            do {
                fates = try FateCoding.decode([UInt8](data))
            } catch {
                throw RefineryError(.integrity, "the resolution's fates of unit \(unit.name) are damaged: \(error)", at: SourceLocation(file: fatesPath))
            }
            // The unit's spilled batches, each with its records' fates, in order.
            var jobs: [FinalizeJob] = []
            var cursor = 0
            _ = try UnitStore.forEachOutput(work.unit(unit), firstBatch: 0, sourceIndex: unit.sourceIndex) { output in
                guard let piece = output.spill, let stored = piece.stored else { return }
                let end = cursor + piece.entries.count
                guard end <= fates.count else { throw RefineryError(.integrity, "the fates of unit \(unit.name) are fewer than its records") }
                jobs.append(FinalizeJob(batch: SpillBatch(index: output.index, sourceIndex: output.sourceIndex, frame: stored.frame,
                                                          entries: 0..<piece.entries.count),
                                        frame: piece.frame, encodedEntries: piece.encodedEntries, entriesFile: work.unit(unit).file,
                                        fates: Array(fates[cursor..<end])))
                cursor = end
            }
            guard cursor == fates.count else {
                throw RefineryError(.integrity, "unit \(unit.name) has \(cursor) spilled records and its fates \(fates.count)",
                                    at: SourceLocation(file: fatesPath))
            }
            var outputs: [BatchOutput] = []
            var next = jobs.makeIterator()
            jobs = []
            try engine.finalize(next: { next.next() }, consume: { outputs.append($0) })
            for output in outputs {
                if let failure = output.failure { throw RefineryError(.internal, "batch \(output.index) failed: \(failure)") }
                result.written += output.train.records + output.validation.records
                result.dropped += output.globalDropped.values.reduce(0, +)
            }
            let bytes = FinalizeFiles.encodeFinal(outputs)
            try options.fileSystem.writeAtomically(bytes, to: FinalizeFiles.path(directory, "\(unit.key).final"))
            let marker = FinalizeFiles.Marker(fileXXH3: XXH3.hex(XXH3.hash(bytes)), resolution: resolutionHash, unitFile: unitFile)
            try options.fileSystem.writeAtomically([UInt8](try JSONEncoder().encode(marker)), to: FinalizeFiles.path(directory, "\(unit.key).final.json"))
            result.finalized += 1
            StopPoint.reached("finalized:\(result.finalized)")
        }
        result.seconds = Date().timeIntervalSince(started)
        return result
    }
}
