import Foundation
import RefineryCatalog
import RefineryCodecs
import RefineryRecords
import RefineryShards

extension Engine {
    /// What a task of the map or dedup phase starts from.
    struct TaskStart {
        /// The task's own lock: two copies of one task never run at once. Released by the caller.
        var lock: RunLock
        /// The plan as the submitter made it: incremental when there is a catalog, checked against `--expect-version`.
        var plan: RunPlan
        /// The catalog, read-only, when it exists (a task never writes it).
        var catalog: Catalog?
    }

    /// Takes the lock of `phase` task `task` of `count` (`<dataset>.<phase>-I-of-N`) and makes the task's plan.
    /// - Throws: ``RefineryError``: the same task is running (code `busy`), the plan gives another version than the
    ///   pinned one (code `resume`), the catalog cannot be read.
    func startTask(_ phase: String, task: Int, of count: Int) throws -> TaskStart {
        let lock = try RunLock.acquire(catalogPath: plan.spec.catalogPath, dataset: "\(plan.spec.output.dataset).\(phase)-\(task)-of-\(count)") { nil }
        do {
            var plan = self.plan
            let catalog = FileManager.default.fileExists(atPath: plan.spec.catalogPath) ? try Catalog.openReadOnly(path: plan.spec.catalogPath) : nil
            if let catalog { plan = try RunSession.incrementalPlan(plan, catalog: catalog, full: options.full) }
            try RunSession.checkExpectedVersion(plan, options)
            return TaskStart(lock: lock, plan: plan, catalog: catalog)
        } catch {
            lock.release()
            throw error
        }
    }
}

extension Engine {
    /// The committed units a task after the map reads: every unit of the plan, by key, with the file it was
    /// committed to (by a map task's marker or a run's catalog row).
    struct CommittedWork {
        var units: [WorkUnit]
        var records: [String: Catalog.UnitRecord]

        /// Each unit's committed file XXH3, by key: what the phases' outputs record they were made from.
        var unitFiles: [String: String] { records.mapValues(\.fileXXH3) }

        /// The units and their files in order, as a dedup task's band file records them (``BandFiles/unitsDigest(_:)``).
        var unitsDigest: String { BandFiles.unitsDigest(units.map { ($0.key, records[$0.key]!.fileXXH3) }) }

        func unit(_ unit: WorkUnit) -> CommittedUnit {
            let record = records[unit.key]!
            return CommittedUnit(file: record.file, fileXXH3: record.fileXXH3, batches: record.batches)
        }
    }

    /// A plan's committed units, read without filing anything (by the tasks after the map, and the submitter).
    /// - Throws: ``RefineryError`` (code `resume`) naming the units not committed yet (the map is not done).
    static func committedWork(_ plan: RunPlan, catalog: Catalog?) throws -> CommittedWork {
        let units = WorkUnit.units(of: plan)
        let committed = try UnitStore.committedRecords(root: plan.spec.output.root, specHash: XXH3.hex(plan.spec.configHash),
                                                       catalog: catalog)
        try requireMapped(units, isCommitted: { committed[$0.key] != nil })
        let keys = Set(units.map(\.key))
        return CommittedWork(units: units, records: committed.filter { keys.contains($0.key) })
    }

    /// This version's resolution, and the XXH3 of its file, when it was made from exactly these unit files and the
    /// other versions' dedup index segments there now; nil when there is none, or it is stale.
    func currentResolution(unitFiles: [String: String]) -> (resolution: FinalizeFiles.Resolution, hash: String)? {
        guard let (resolution, hash) = FinalizeFiles.readResolution(root: plan.spec.output.root, version: plan.version,
                                                                    specHash: XXH3.hex(plan.spec.configHash)),
              FinalizeFiles.matches(resolution, unitFiles: unitFiles, published: publishedSegmentStamps()) else { return nil }
        return (resolution, hash)
    }

    /// Why a task after the map has nothing to do, before it reads anything: this dataset version is complete
    /// already (unless `--force`), or the spec has no global stage for the resolve and finalize phases to decide.
    func nothingToDo(_ plan: RunPlan, needsGlobalStages: Bool) -> String? {
        if !options.force, let existing = try? Manifest.read(directory: plan.directory), existing.version == plan.version {
            return "dataset already complete at \(plan.directory) (version \(plan.version))"
        }
        if needsGlobalStages && !plan.hasGlobalStages {
            return "the spec has no global stage (dedup, balance, or split counts): the map's shard pieces are final"
        }
        return nil
    }
}
