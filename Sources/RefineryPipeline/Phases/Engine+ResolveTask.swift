import Foundation
import RefineryCatalog
import RefineryCodecs
import RefineryRecords
import RefineryShards

/// What the resolve task did (`refinery run SPEC --phase resolve`).
public struct ResolveTaskResult: Sendable {
    /// Spilled records resolved, and those the global stages dropped.
    public var records = 0
    public var dropped = 0
    public var seconds = 0.0
    /// Where the fates and the resolution went.
    public var directory = ""
    /// Why there was nothing to do.
    public var nothingToDo: String?
}

extension Engine {
    /// Runs the resolve phase (``RunPhase/resolve``): reads the spilled records of every committed unit in canonical
    /// order, resolves dedup (over the dedup phase's band files when they are complete) and balance, assigns the
    /// splits, and writes each unit's fates and the run's resolution (``FinalizeFiles``) for the finalize tasks, and
    /// this version's dedup index segment into the same folder (the reduce publishes it). One task. Writes nothing
    /// to the catalog. A resolution made from the same unit files and published segments is kept (whatever
    /// `--force`).
    /// - Throws: ``RefineryError``: a unit is not committed (code `resume`), another resolve is running (code
    ///   `busy`), a unit file is damaged (code `integrity`), a write failed.
    public func runResolveTask() throws -> ResolveTaskResult {
        guard options.phase == .resolve else {
            throw RefineryError(.usage, "runResolveTask runs the resolve phase (got \(options.phase))")
        }
        let started = Date()
        let start = try startTask("resolve", task: 0, of: 1)
        defer { start.lock.release() }
        let plan = start.plan
        let root = plan.spec.output.root
        let specHash = XXH3.hex(plan.spec.configHash)
        let directory = FinalizeFiles.directory(root: root, version: plan.version)
        var result = ResolveTaskResult(directory: directory)
        if let why = nothingToDo(plan, needsGlobalStages: true) {
            result.nothingToDo = why
            return result
        }
        let work = try Self.committedWork(plan, catalog: start.catalog)
        let (units, unitFiles) = (work.units, work.unitFiles)
        let engine = Engine(plan: plan, options: options, logger: logger)
        if let (resolution, _) = engine.currentResolution(unitFiles: unitFiles) {
            result.records = resolution.records
            result.nothingToDo = "an earlier attempt wrote the resolution"
            return result
        }
        // A new resolution: what the finalize tasks made from an earlier one goes.
        try? FileManager.default.removeItem(atPath: directory)
        try options.fileSystem.makeDirectory(directory)

        // The spill indexes the spilled records where the units' files hold them.
        let spill = Spill(balance: plan.balance)
        defer { spill.close() }
        let entries = spill.entries
        var ranges: [(key: String, range: Range<Int>)] = []
        for unit in units {
            let first = entries.count
            _ = try UnitStore.forEachOutput(work.unit(unit), firstBatch: 0, sourceIndex: unit.sourceIndex) { output in
                guard let piece = output.spill else { return }
                try spill.append(piece, batch: output.index, sourceIndex: output.sourceIndex)
            }
            ranges.append((unit.key, first..<entries.count))
        }
        logger.info("resolve started", metadata: ["records": "\(entries.count)", "units": "\(units.count)", "dataset.version": "\(plan.version)"])
        let monitor = RunMonitor(logger: logger, options: options.monitor, dataset: plan.spec.output.dataset, version: plan.version,
                                 totalBytes: 0, totalUnits: 0)
        var resolution = try engine.resolveGlobalStages(spill, monitor: monitor)
        for (key, range) in ranges {
            try options.fileSystem.writeAtomically(FateCoding.encode(resolution.fates[range]), to: FinalizeFiles.path(directory, "\(key).fates"))
        }
        // This version's dedup index segment, for the reduce to publish (only the process holding the dataset's
        // lock writes beside the catalog).
        if let segment = resolution.segment {
            let (bytes, perRecord) = try engine.encodeSegment(segment)
            try options.fileSystem.writeAtomically(bytes, to: FinalizeFiles.path(directory, "segment.idx"))
            resolution.stats["dedup_index_file_bytes_per_record"] = perRecord
        }
        let stats = try JSONSerialization.data(withJSONObject: resolution.stats, options: [.sortedKeys])
        let file = FinalizeFiles.Resolution(
            version: plan.version, specHash: specHash, records: entries.count,
            unitRecords: Dictionary(uniqueKeysWithValues: ranges.map { ($0.key, $0.range.count) }),
            unitFiles: unitFiles, published: engine.publishedSegmentStamps(),
            counters: resolution.counters, repeats: resolution.repeats, categoryMix: resolution.categoryMix,
            seconds: Dictionary(uniqueKeysWithValues: resolution.seconds.map { ("\($0.key)", $0.value) }),
            stats: String(decoding: stats, as: UTF8.self))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try options.fileSystem.writeAtomically([UInt8](try encoder.encode(file)), to: FinalizeFiles.path(directory, "resolution.json"))
        result.records = entries.count
        result.dropped = resolution.fates.filter { if case .drop = $0 { true } else { false } }.count
        result.seconds = Date().timeIntervalSince(started)
        return result
    }
}
