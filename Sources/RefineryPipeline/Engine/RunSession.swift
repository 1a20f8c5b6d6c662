import Foundation
import RefineryCatalog
import RefineryCodecs
import RefineryRecords
import RefineryReport
import RefineryShards

/// One `refinery run` as the catalog sees it, with the dataset's lock held: decides what to read (incremental
/// runs skip published inputs), whether committed work can be resumed, records the run, its inputs, stage
/// statistics and summary, and the dataset version it wrote.
struct RunSession {
    let engine: Engine
    let catalog: Catalog

    func run() throws -> RunResult {
        let options = engine.options
        let logger = engine.logger
        let dataset = engine.plan.spec.output.dataset
        let plan = try Self.incrementalPlan(engine.plan, catalog: catalog, full: options.full)
        try Self.checkExpectedVersion(plan, options)
        let engine = Engine(plan: plan, options: options, logger: logger)
        let directory = plan.directory
        let root = plan.spec.output.root
        let specHash = XXH3.hex(plan.spec.configHash)
        let units = WorkUnit.units(of: plan)

        let runID = try catalog.beginRun(Catalog.RunStart(
            specName: plan.spec.name, specHash: specHash, specPath: plan.spec.file, dataset: dataset, version: plan.version,
            outputDirectory: directory, host: ProcessInfo.processInfo.hostName, refineryVersion: Manifest.refineryVersion,
            command: options.command, pid: ProcessInfo.processInfo.processIdentifier))
        try catalog.recordInputs(runID: runID, zip(plan.files, plan.fingerprints).map { file, print in
            Catalog.InputRecord(source: print.source, path: print.path, size: file.size, mtime: file.modified, xxh3: print.xxh3)
        })
        logger.info("run started", metadata: ["run": "\(runID)", "spec.path": "\(plan.spec.file)", "dataset": "\(dataset)",
                                              "dataset.version": "\(plan.version)", "workers": "\(options.workers)",
                                              "inputs": "\(plan.files.count)", "inputs.skipped": "\(plan.skipped.count)"])
        // An empty file adds nothing, and a nightly export that failed upstream often leaves exactly that.
        for file in plan.files where file.size == 0 {
            logger.warning("empty input file: it holds no records", metadata: ["file": "\(file.path)"])
        }
        let monitor = RunMonitor(logger: logger, options: options.monitor, dataset: dataset, version: plan.version,
                                 totalBytes: plan.files.reduce(0) { $0 + $1.size }, totalUnits: units.count)
        let started = Date()
        let replaced = engine.replacedDataset
        do {
            try checkCommittedWork(under: root, specHash: specHash)
            try refuseReplacingProduction(directory)
            if options.phase == .reduce && (options.force || (try? Manifest.read(directory: directory))?.version != plan.version) {
                // Before --force removes anything: a reduce without its units must leave the folder as it is.
                let committed = try UnitStore.committedKeys(root: root, specHash: specHash, catalog: catalog)
                try Engine.requireMapped(units, isCommitted: { committed.contains($0.key) })
            }
            var result: RunResult
            if plan.files.isEmpty && !plan.skipped.isEmpty {
                result = try nothingNew(plan)
            } else if let complete = try engine.prepareFolder(directory) {
                try engine.publishSegment()   // a run killed between its manifest and its index segment
                logger.info("dataset already complete; nothing to do", metadata: ["dataset.dir": "\(directory)", "dataset.version": "\(complete.version)"])
                result = RunResult(upToDate: true, manifest: complete, directory: directory, seconds: 0, inputBytes: 0)
                // A run killed between its manifest and its catalog row left a dataset the catalog does not list yet.
                if try catalog.version(dataset: dataset, version: complete.version) == nil {
                    try recordVersion(directory: directory, version: complete.version, runID: runID)
                }
                let removal = discardUnits(under: root)
                // A run killed between its manifest and its report left no report.
                if !FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent(DatasetReport.fileName)) {
                    writeReport(directory)
                }
                try? removal?.wait()   // the removal never throws
            } else {
                result = try engine.write(units: units, catalog: catalog, runID: runID, monitor: monitor)
                if let replaced, replaced.version != plan.version {   // --force removed it once this run's was written
                    try catalog.markFilesRemoved(dataset: replaced.dataset, version: replaced.version)
                }
                StopPoint.reached("manifest")
                try recordVersion(directory: directory, version: plan.version, runID: runID)
                let removal = discardUnits(under: root)
                if options.report { monitor.phase("report") }
                writeReport(directory, tallies: result.reportTallies)
                try? removal?.wait()   // the removal never throws
            }
            result.runID = runID
            result.skippedInputs = plan.skipped.count
            let manifest = result.manifest
            let summary = Self.summary(result, plan: plan)
            // A run that found nothing new read and wrote nothing: its result holds the newest published version's
            // manifest, whose counts are another run's.
            let totals = result.nothingNew ? Totals(read: 0, written: 0, quarantined: 0, quarantinedByReason: [:], blankLines: 0, repeats: 0)
                                           : manifest.totals
            try catalog.finishRun(runID, status: .succeeded, error: nil, summary: summary, read: totals.read,
                                  written: totals.written, quarantined: totals.quarantined,
                                  stages: result.upToDate ? [] : Self.stageStats(manifest, seconds: result.stageSeconds))
            monitor.finish(status: "succeeded", seconds: Date().timeIntervalSince(started), stages: result.upToDate ? [] : manifest.stages,
                           written: totals.written, quarantined: totals.quarantined,
                           lastSuccess: Date().timeIntervalSince1970)
            return result
        } catch {
            let stopped = (error as? RefineryError)?.code == .stopped
            try? catalog.finishRun(runID, status: stopped ? .interrupted : .failed, error: "\(error)", summary: nil, read: 0, written: 0,
                                   quarantined: 0, stages: [])
            let last = (try? catalog.lastSucceeded(dataset: dataset)).flatMap { $0 }?.endedAtDate?.timeIntervalSince1970
            monitor.finish(status: stopped ? "interrupted" : "failed", seconds: Date().timeIntervalSince(started), stages: [], written: 0,
                           quarantined: 0, lastSuccess: last, error: "\(error)")
            throw error
        }
    }

    /// The plan this run reads. Incremental, when each version has its own folder (`{version}` in output.dir):
    /// unless this exact version exists already (a rerun), the inputs that a published version holds are left out;
    /// their records are in it. A fixed folder holds one version at a time, which each run replaces: it reads every
    /// input, as does `full`.
    static func incrementalPlan(_ plan: RunPlan, catalog: Catalog, full: Bool) throws -> RunPlan {
        let dataset = plan.spec.output.dataset
        guard !full, plan.spec.output.directory.contains("{version}"),
              try catalog.version(dataset: dataset, version: plan.version) == nil else { return plan }
        let published = try catalog.publishedInputs(dataset: dataset)
        return published.isEmpty ? plan : plan.skipping(published: published, key: Catalog.publishedKey)
    }

    /// Refuses a task of a submission whose plan is not the submission's: its units would not be the ones the
    /// other tasks share.
    static func checkExpectedVersion(_ plan: RunPlan, _ options: RunOptions) throws {
        guard let expected = options.expectedVersion, expected != plan.version else { return }
        throw RefineryError(.resume,
            "this task was submitted for version \(expected), but the spec and inputs now give \(plan.version): an input file or the spec "
            + "changed since the submission, so the tasks would not share the same units. Submit the run again (`--executor slurm`)",
            at: SourceLocation(file: plan.spec.file))
    }

    /// Refuses to mix committed work of another spec into this run, or discards it with `--restart`.
    private func checkCommittedWork(under root: String, specHash: String) throws {
        let committed = try catalog.committedUnits(outputDirectory: root)
        guard !committed.isEmpty else { return }
        if engine.options.restart {
            try UnitStore.discard(root: root, catalog: catalog)
            engine.logger.notice("--restart: discarded the committed work of an interrupted run", metadata: ["units": "\(committed.count)"])
            return
        }
        if let other = committed.first(where: { $0.specHash != specHash }) {
            throw RefineryError(.resume,
                "\(root) holds \(committed.count) work unit(s) committed by interrupted run \(other.runID) of another spec "
                + "(config hash \(other.specHash); this spec's is \(specHash)), so this run cannot resume from them. "
                + "Restore that spec to finish the interrupted run, or pass --restart to discard its work and start over.",
                at: SourceLocation(file: engine.plan.spec.file))
        }
    }

    /// Refuses `--force` over a fixed folder that holds the production version: it would delete what production
    /// points at before anything replaces it.
    private func refuseReplacingProduction(_ directory: String) throws {
        guard engine.options.force, let existing = try? Manifest.read(directory: directory), existing.version != engine.plan.version,
              try catalog.production(dataset: existing.dataset)?.version == existing.version else { return }
        throw RefineryError(.output,
            "\(directory) holds \(existing.dataset)@\(existing.version), the production version; --force would delete it. "
            + "Promote another version first, or write each version to its own folder with {version} in output.dir",
            at: SourceLocation(file: engine.plan.spec.file))
    }

    /// Removes the committed units under the root once a run has written (or found) its version: their rows now,
    /// their files beside the report (``UnitStore/discardBeside(root:catalog:)``); wait for the returned removal before
    /// the run ends. Best effort: the version is recorded, and leftover units are removed by the next run that finishes.
    private func discardUnits(under root: String) -> BackgroundWork<Void>? {
        do {
            return try UnitStore.discardBeside(root: root, catalog: catalog)
        } catch {
            engine.logger.warning("could not remove the committed work units", metadata: ["root": "\(root)", "error": "\(error)"])
            return nil
        }
    }

    /// Writes the dataset's `report.html` and the report's numbers into `stats.json`, reading the shards on as many
    /// threads as the run had workers: only the per-record stages' reject shards, with the run's `tallies` of the
    /// rest. Best effort: the dataset is written and recorded; `refinery report` can write the report again.
    private func writeReport(_ directory: String, tallies: ReportTallies? = nil) {
        guard engine.options.report else { return }
        do {
            let summary = try DatasetReport.write(directory: directory, threads: engine.options.workers, tallies: tallies)
            engine.logger.info("report written", metadata: ["report": "\(summary.htmlPath)"])
        } catch {
            engine.logger.warning("the dataset was written but its report was not; `refinery report` writes it",
                                  metadata: ["dataset.dir": "\(directory)", "error": "\(error)"])
        }
    }

    /// Files the version the run wrote (or found complete) in the catalog as a candidate.
    private func recordVersion(directory: String, version: String, runID: Int64) throws {
        let path = (directory as NSString).appendingPathComponent("manifest.json")
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw RefineryError(.output, "cannot read the manifest just written", at: SourceLocation(file: path))
        }
        try catalog.recordVersion(dataset: engine.plan.spec.output.dataset, version: version, manifestPath: path,
                                  manifestHash: XXH3.hex(XXH3.hash([UInt8](bytes))), runID: runID)
    }

    /// Every input is in a published version: nothing to read. The result carries the newest of those versions.
    private func nothingNew(_ plan: RunPlan) throws -> RunResult {
        let dataset = plan.spec.output.dataset
        let versions = Set(plan.skipped.map(\.version)).sorted()
        let records = try versions.compactMap { try catalog.version(dataset: dataset, version: $0) }
        guard let newest = records.max(by: { $0.createdAt < $1.createdAt }),
              let manifest = try? Manifest.read(directory: (newest.manifestPath as NSString).deletingLastPathComponent) else {
            throw RefineryError(.output, "every input is already in a published version of '\(dataset)' (\(versions.joined(separator: ", "))), "
                + "whose files are gone; nothing to do. Pass --full to read them again into a new version.")
        }
        engine.logger.info("nothing new: every input is in a published version", metadata: ["inputs.skipped": "\(plan.skipped.count)", "versions": "\(versions)"])
        var result = RunResult(upToDate: true, manifest: manifest, directory: (newest.manifestPath as NSString).deletingLastPathComponent,
                               seconds: 0, inputBytes: 0)
        result.nothingNew = true
        return result
    }

    /// The run summary the catalog stores (and `refinery show RUN` prints): JSON with sorted keys.
    static func summary(_ result: RunResult, plan: RunPlan) -> String {
        let totals = result.manifest.totals
        var object: [String: Any] = [
            "outcome": result.nothingNew ? "nothing_new" : result.upToDate ? "up_to_date" : "written",
            "version": result.manifest.version,
            "directory": result.directory,
            "seconds": (result.seconds * 1000).rounded() / 1000,
            "input_bytes": result.inputBytes,
            "inputs": plan.files.count,
            "inputs_skipped": result.skippedInputs,
            "units_reused": result.unitsReused,
        ]
        if !result.upToDate {
            object["read"] = totals.read
            object["written"] = totals.written
            object["quarantined"] = totals.quarantined
            object["quarantined_by_reason"] = totals.quarantinedByReason
        }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// The manifest's stage counters with the seconds the workers and the global stages spent in each.
    static func stageStats(_ manifest: Manifest, seconds: [Double]) -> [Catalog.StageStat] {
        manifest.stages.enumerated().map { index, stage in
            Catalog.StageStat(stage: stage.name, recordsIn: stage.recordsIn, recordsOut: stage.recordsOut, bytesIn: stage.bytesIn,
                              bytesOut: stage.bytesOut, dropped: stage.dropped, seconds: index < seconds.count ? seconds[index] : 0)
        }
    }
}
