import Foundation
import Logging
import RefineryCatalog
import RefineryCodecs
import RefineryReaders
import RefineryRecords
import RefineryReport
import RefineryShards
import RefineryStages

/// Runs a plan: reads sources in order, streams batches through the stages on every core, writes shards in
/// input order, and accounts for every unit read.
public struct Engine {
    public var plan: RunPlan
    public var options: RunOptions
    public var logger: Logger

    public init(plan: RunPlan, options: RunOptions = RunOptions(), logger: Logger = Logger(label: "refinery")) {
        self.plan = plan
        self.options = options
        self.logger = logger
    }

    /// Runs the plan: takes the dataset's lock, records the run in the catalog, skips inputs already published
    /// (unless `full`), resumes from the units an interrupted run committed, and records the version it wrote.
    /// - Throws: ``RefineryError``: the catalog is damaged or newer (code `catalog`), another run holds the
    ///   dataset (code `busy`), committed work of another spec is in the way (code `resume`), the folder holds
    ///   another version (code `output`), a write failed (disk full), an input became unreadable or changed. On
    ///   failure no manifest is written; the units committed so far stay for the next run.
    public func run() throws -> RunResult {
        switch options.phase {
        case .map: throw RefineryError(.usage, "a map task writes no dataset: run it with Engine.runMapTask()")
        case .dedup: throw RefineryError(.usage, "a dedup task writes no dataset: run it with Engine.runDedupTask()")
        case .resolve: throw RefineryError(.usage, "the resolve task writes no dataset: run it with Engine.runResolveTask()")
        case .finalize: throw RefineryError(.usage, "a finalize task writes no dataset: run it with Engine.runFinalizeTask()")
        case .all, .reduce: break
        }
        let catalog = try Catalog(path: plan.spec.catalogPath)
        let dataset = plan.spec.output.dataset
        let lock = try RunLock.acquire(catalogPath: catalog.path, dataset: dataset) {
            try? catalog.runningRun(dataset: dataset)
        }
        defer { lock.release() }
        for stale in try catalog.interruptStaleRuns(dataset: dataset) {
            logger.notice("an earlier run was killed; marked interrupted", metadata: ["run": "\(stale.id)"])
        }
        return try RunSession(engine: self, catalog: catalog).run()
    }

    /// Runs a plan whose lock is held and whose run is recorded: maps the units (or reuses committed ones),
    /// resolves the global stages and writes the dataset. In the reduce phase every unit must be committed already.
    func write(units: [WorkUnit], catalog: Catalog, runID: Int64, monitor: RunMonitor) throws -> RunResult {
        let plan = self.plan
        let started = Date()
        let directory = plan.directory
        removeStaleFiles(in: directory)
        let writer = try DatasetWriter(directory: directory, plan: plan, fileSystem: options.fileSystem)
        let store = try UnitStore(root: plan.spec.output.root, specHash: XXH3.hex(plan.spec.configHash),
                                  recorder: .catalog(catalog, runID: runID), fileSystem: options.fileSystem, logger: logger)
        if options.phase == .reduce { try Self.requireMapped(units, isCommitted: store.isCommitted) }
        // With a global stage (dedup), the finalize phase's pieces when every unit has them; otherwise the batches'
        // survivors go to a spill and are written out after the global stages resolve.
        let finalized = plan.hasGlobalStages ? finalizedWork(units, store: store) : nil
        let spill = plan.hasGlobalStages && finalized == nil ? Spill(balance: plan.balance) : nil
        defer { spill?.close() }
        var totals = MapTotals()
        var globalStats: [String: Any] = [:]
        var tallies: ReportTallies?
        do {
            // Dedup resolves beside the map, each unit once committed; the reduce waits for the map, whose dedup phase
            // may have left bucket numbers to resolve with.
            if let spill, let dedup = plan.dedup, options.phase == .all {
                let (published, publishedStats) = try loadPublishedIndex(for: dedup)
                let sourceBytes = plan.spec.sources.indices.map { source in units.filter { $0.sourceIndex == source }.reduce(0) { $0 + $1.bytes } }
                spill.resolveBesideMap(DedupFeed(stage: dedup, published: published, publishedStats: publishedStats), sourceBytes: sourceBytes)
            }
            totals = try map(units, store: store, monitor: monitor, committed: { unit in
                if let expected = spill?.unitCommitted(unit) {
                    logger.debug("dedup sized for the records expected", metadata: ["unit": "\(unit.name)", "records.expected": "\(expected)"])
                }
            }) { output in
                try writer.append(output)
                if let spill, let piece = output.spill {
                    try spill.append(piece, batch: output.index, sourceIndex: output.sourceIndex)
                }
                monitor.update(stages: writer.counters)
            }
            if let spill {
                (globalStats, tallies) = try finishGlobalStages(spill: spill, writer: writer, monitor: monitor)
            } else if let finalized {
                globalStats = try writeFinalized(finalized, units: units, writer: writer)
            }
        } catch {
            writer.abandon()
            removeSegment(version: plan.version, pendingOnly: true)
            throw error
        }
        let (blankLines, inputBytes, readSeconds, reused) = (totals.blankLines, totals.inputBytes, totals.readSeconds, totals.reused)

        let seconds = Date().timeIntervalSince(started)
        let names = ["decode"] + plan.stageNames.dropFirst() + ["serialize_compress"]
        var stats: [String: Any] = [
            "dataset": plan.spec.output.dataset,
            "version": plan.version,
            "started": ISO8601DateFormatter().string(from: started),
            "seconds": seconds,
            "workers": options.workers,
            "input_bytes": inputBytes,
            "input_mb_per_second": seconds > 0 ? Double(inputBytes) / seconds / 1e6 : 0,
            "reader_seconds": readSeconds,
            "worker_seconds": Dictionary(uniqueKeysWithValues: zip(names, writer.seconds)),
            "units": units.count,
            "units_reused": reused,
        ]
        stats.merge(globalStats) { $1 }
        do {
            monitor.phase("write")
            // Everything is computed and the shards are written under temporary names: the dataset a --force run
            // replaces goes now, just before this one's shards are renamed into place and its manifest written.
            if let replaced = replacedDataset { removeDataset(replaced, in: directory) }
            let manifest = try writer.finish(plan: plan, blankLines: blankLines, stats: stats)
            try publishSegment()
            var result = RunResult(upToDate: false, manifest: manifest, directory: directory, seconds: seconds, inputBytes: inputBytes,
                                   unitsReused: reused, stageSeconds: writer.seconds)
            result.reportTallies = tallies
            return result
        } catch {
            writer.abandon()
            removeSegment(version: plan.version, pendingOnly: true)
            throw error
        }
    }

    /// Fails a unit whose files changed while they were read (their size or modification time is no longer the
    /// one fingerprinted when the run started): the unit is not committed, and the next run reads the new content.
    static func checkUnchanged(_ unit: WorkUnit) throws {
        for source in unit.files {
            let file = source.file
            let now = RunPlan.stamp(file.path)
            guard let now, now.size == file.size, now.modified == file.modified else {
                let what = now.map { "its size went from \(file.size) to \($0.size) bytes or it was modified" } ?? "it disappeared"
                throw RefineryError(.input, "the file changed while it was being read (\(what)); the unit was not committed. "
                    + "Run the command again once the file is complete: it is fingerprinted and read anew", at: SourceLocation(file: file.path))
            }
        }
    }

    /// Decides what to do with what the output folder already holds, reading its manifest once.
    /// - Returns: the manifest when the folder already holds exactly this dataset version (nothing to do).
    /// - Throws: ``RefineryError`` (code `output`) when the folder holds another version, the same pinned label
    ///   over another spec or other inputs, or a manifest Refinery cannot read, unless `--force`. `--force` removes a
    ///   manifest Refinery cannot read at once, and a dataset only once this run's is written (``replacedDataset``).
    func prepareFolder(_ directory: String) throws -> Manifest? {
        let manifestPath = (directory as NSString).appendingPathComponent("manifest.json")
        guard FileManager.default.fileExists(atPath: manifestPath) else { return nil }
        guard let existing = try? Manifest.read(directory: directory) else {
            guard options.force else {
                throw RefineryError(.output,
                    "this folder holds a manifest.json that is not a Refinery dataset/1 manifest; it was left alone. "
                    + "Point output.dir at a new folder, or pass --force to replace it.", at: SourceLocation(file: directory))
            }
            options.fileSystem.remove(manifestPath)
            return nil
        }
        if !options.force {
            guard existing.version == plan.version else {
                throw RefineryError(.output,
                    "this folder already holds dataset '\(existing.dataset)' version \(existing.version), and this run would write version \(plan.version) "
                    + "(the spec, the inputs or the Refinery release changed). Point output.dir at a new folder, or pass --force to replace it.",
                    at: SourceLocation(file: directory))
            }
            guard existing.configHash == XXH3.hex(plan.spec.configHash) && existing.inputs == plan.fingerprints else {
                throw RefineryError(.output,
                    "this folder holds dataset '\(existing.dataset)' version \(existing.version), made from another spec or other inputs; "
                    + "output.version pins the label, so change it (or remove it to derive one), or pass --force to replace the dataset.",
                    at: SourceLocation(file: directory))
            }
            return existing
        }
        // --force: the dataset stays, readable and published, until this run's is written (``write(units:catalog:runID:monitor:)``
        // removes it then), so that a forced run that fails leaves the last good version in place.
        return nil
    }

    /// The dataset a `--force` run replaces: the one its folder holds until the run's own is written (`nil` without
    /// `--force`, or when the folder holds none).
    var replacedDataset: Manifest? {
        options.force ? try? Manifest.read(directory: plan.directory) : nil
    }

    /// Removes a dataset's manifest first (so the folder stops being a dataset), then its files and, for another
    /// version of this dataset, its dedup index segment (it is no longer published; this version's is replaced when
    /// the run publishes its own).
    private func removeDataset(_ manifest: Manifest, in directory: String) {
        let fs = options.fileSystem
        fs.remove((directory as NSString).appendingPathComponent("manifest.json"))
        for entry in manifest.shards + manifest.rejects { fs.remove((directory as NSString).appendingPathComponent(entry.file)) }
        fs.remove((directory as NSString).appendingPathComponent("stats.json"))
        fs.remove((directory as NSString).appendingPathComponent("report.html"))
        if manifest.dataset == plan.spec.output.dataset && manifest.version != plan.version { removeSegment(version: manifest.version) }
    }

    /// Removes what a killed run left: temporary files, and shards that no manifest lists (any `.jsonl.zst` in
    /// `rejects/`, `train-*`/`validation-*` shards beside it, but those of the dataset a `--force` run replaces).
    /// Other files are the user's and stay.
    private func removeStaleFiles(in directory: String) {
        let rejects = (directory as NSString).appendingPathComponent("rejects")
        let listed = Set((replacedDataset.map { $0.shards + $0.rejects } ?? []).map { (directory as NSString).appendingPathComponent($0.file) })
        for folder in [directory, rejects] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
                let path = (folder as NSString).appendingPathComponent(name)
                let isShard = name.hasSuffix(".jsonl.zst")
                    && (folder == rejects || name.hasPrefix("train-") || name.hasPrefix("validation-"))
                if name.hasSuffix(".tmp") || (isShard && !listed.contains(path)) {
                    options.fileSystem.remove(path)
                }
            }
        }
    }
}
