import Foundation
import RefineryCatalog
import RefineryCodecs
import RefineryRecords
import RefineryShards
import RefineryStages

/// What one dedup task did (`refinery run SPEC --phase dedup --task-index I --task-count N`).
public struct DedupTaskResult: Sendable {
    public var task: Int
    public var taskCount: Int
    /// The LSH bands it numbered, and the buckets it found in each.
    public var bands: [Int] = []
    public var buckets: [Int] = []
    /// Spilled records read from the committed units.
    public var records = 0
    public var seconds = 0.0
    /// Bytes the task's bucket tables held at the end.
    public var tableBytes = 0
    /// Its band file, under `.work/dedup/<version>/`.
    public var file = ""
    /// Why there was nothing to do: the dataset is complete, the spec looks for no near duplicates, or an earlier
    /// attempt of the task wrote its file.
    public var nothingToDo: String?
}

extension Engine {
    /// Runs the dedup phase's task `options.phase` (``RunPhase/dedup(task:of:)``): reads the spilled records of every
    /// committed unit in canonical order and numbers the buckets of its bands (``BandFiles``). Needs every unit
    /// committed. Writes nothing to the catalog (only reads it, for the incremental plan, as map tasks do). A task
    /// whose file is there, made from the same unit files, does nothing (`--force` only lets tasks run over a
    /// complete dataset folder, as for map tasks).
    /// - Throws: ``RefineryError``: a unit is not committed (code `resume`), the same task is running (code `busy`),
    ///   a unit file is damaged (code `integrity`), a write failed.
    public func runDedupTask() throws -> DedupTaskResult {
        guard case .dedup(let task, let count) = options.phase, count >= 1, (0..<count).contains(task) else {
            throw RefineryError(.usage, "a dedup task needs a task index from 0 to the task count - 1 (got \(options.phase))")
        }
        let started = Date()
        let start = try startTask("dedup", task: task, of: count)
        defer { start.lock.release() }
        let plan = start.plan
        let root = plan.spec.output.root
        var result = DedupTaskResult(task: task, taskCount: count)
        result.file = BandFiles.path(root: root, version: plan.version, task: task, of: count)
        if let why = nothingToDo(plan, needsGlobalStages: false) {
            result.nothingToDo = why
            return result
        }
        guard let dedup = plan.dedup, dedup.near else {
            result.nothingToDo = "the spec's dedup stage does not look for near duplicates: the reduce resolves exact ones alone"
            return result
        }
        let specHash = XXH3.hex(plan.spec.configHash)
        result.bands = BandFiles.bands(task: task, of: count, total: dedup.hasher.bands)
        let work = try Self.committedWork(plan, catalog: start.catalog)
        let units = work.units
        let unitsDigest = work.unitsDigest
        if let trailer = BandFiles.done(root: root, version: plan.version, specHash: specHash, task: task, of: count, unitsDigest: unitsDigest) {
            result.buckets = trailer.buckets
            result.records = trailer.records
            result.nothingToDo = "an earlier attempt of this task wrote its band file"
            return result
        }

        let expected = units.reduce(0) { $0 + (work.records[$1.key]?.records ?? 0) }
        var numberings = result.bands.map { _ in BandBucketNumbering(expectedBuckets: expected) }
        logger.info("dedup task started", metadata: ["task": "\(task)", "tasks": "\(count)", "bands": "\(result.bands)",
                                                     "units": "\(units.count)", "dataset.version": "\(plan.version)"])
        let writer = try BandFiles.Writer(path: result.file, fileSystem: options.fileSystem)
        do {
            var digest = BandFiles.Digest()
            var numbers = [UInt32](repeating: 0, count: result.bands.count)
            for unit in units {
                _ = try UnitStore.forEachOutput(work.unit(unit), firstBatch: 0, sourceIndex: unit.sourceIndex) { output in
                    for entry in output.spill?.entries ?? [] {
                        digest.add(entry.dedup)
                        if let bands = entry.dedup?.bands, bands.count == dedup.hasher.bands {
                            for (slot, band) in result.bands.enumerated() { numbers[slot] = numberings[slot].number(bands[band]) }
                        } else {
                            for slot in numbers.indices { numbers[slot] = .max }
                        }
                        try writer.append(numbers)
                    }
                }
            }
            result.records = digest.records
            result.buckets = numberings.map(\.buckets)
            result.tableBytes = numberings.reduce(0) { $0 + $1.memoryBytes }
            try writer.finish(BandFiles.Trailer(format: BandFiles.format, version: plan.version, specHash: specHash, task: task, count: count,
                                                bands: result.bands, buckets: result.buckets, records: digest.records, digest: digest.value,
                                                units: unitsDigest, body: ""))
        } catch {
            writer.abandon()
            throw error
        }
        result.seconds = Date().timeIntervalSince(started)
        return result
    }
}
