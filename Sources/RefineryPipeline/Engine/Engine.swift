import Foundation
import Logging
import RefineryCodecs
import RefineryReaders
import RefineryRecords
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

    /// Runs the plan.
    /// - Throws: ``RefineryError``: the folder holds another version (code `output`), a write failed (disk
    ///   full), an input became unreadable. On failure no manifest is written and temporary files are removed.
    public func run() throws -> RunResult {
        let started = Date()
        let directory = plan.spec.output.directory
        if let complete = try prepareFolder(directory) {
            try publishSegment()   // a run killed between its manifest and its index segment
            logger.info("dataset already complete; nothing to do", metadata: ["dataset.dir": "\(directory)", "dataset.version": "\(complete.version)"])
            return RunResult(upToDate: true, manifest: complete, directory: directory, seconds: 0, inputBytes: 0)
        }
        removeStaleFiles(in: directory)
        let writer = try DatasetWriter(directory: directory, plan: plan, fileSystem: options.fileSystem)
        let plan = self.plan
        // With a global stage (dedup), the batches' survivors go to a spill and are written out after it resolves.
        let spill = plan.hasGlobalStages ? try SpillFile(directory: directory, version: plan.version) : nil
        defer { spill?.remove() }
        let executor = OrderedExecutor<Batch, BatchOutput>(
            workers: options.workers, window: options.workers * 2 + 1,
            makeProcessor: {
                do {
                    let processor = try BatchProcessor(plan: plan)
                    return { processor.process($0) }
                } catch {
                    let message = "\(error)"
                    return { batch in
                        var output = BatchOutput(index: batch.index, sourceIndex: batch.sourceIndex)
                        output.failure = message
                        return output
                    }
                }
            },
            consume: { output in
                try writer.append(output)
                if let spill, let piece = output.spill {
                    try spill.append(piece, batch: output.index, sourceIndex: output.sourceIndex)
                }
            })

        var blankLines = 0
        var inputBytes = 0
        var globalStats: [String: Any] = [:]
        var readSeconds = 0.0
        let totalBytes = plan.files.reduce(0) { $0 + $1.size }
        var progress = ProgressReporter(logger: logger, totalBytes: totalBytes)
        do {
            let builder = BatchBuilder(maxRecords: plan.spec.engine.batchRecords, maxBytes: plan.spec.engine.batchBytes) {
                progress.add(batchBytes: $0.byteCount, units: $0.units.count)
                try executor.submit($0)
            }
            // Files are listed source by source; each source's format cuts its files into units.
            var fileIndex = 0
            while fileIndex < plan.files.count {
                let sourceIndex = plan.files[fileIndex].sourceIndex
                var files: [SourceFile] = []
                while fileIndex < plan.files.count && plan.files[fileIndex].sourceIndex == sourceIndex {
                    files.append(SourceFile(index: fileIndex, file: plan.files[fileIndex]))
                    fileIndex += 1
                }
                var clock = Stopwatch()
                try builder.begin(sourceIndex: sourceIndex)
                let counts = try plan.formats[sourceIndex].splitSource(files, into: builder)
                blankLines += counts.blankLines
                inputBytes += counts.bytes
                readSeconds += clock.lap()
                logger.debug("read source", metadata: ["source": "\(plan.spec.sources[sourceIndex].name)", "source.files": "\(files.count)", "source.lines": "\(counts.lines)"])
            }
            try builder.flush()
            try executor.finish()
            if let spill {
                globalStats = try finishGlobalStages(spill: spill, writer: writer)
            }
        } catch {
            executor.shutdown()
            writer.abandon()
            removeSegment(version: plan.version, pendingOnly: true)
            throw error
        }

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
        ]
        stats.merge(globalStats) { $1 }
        do {
            let manifest = try writer.finish(plan: plan, blankLines: blankLines, stats: stats)
            try publishSegment()
            return RunResult(upToDate: false, manifest: manifest, directory: directory, seconds: seconds, inputBytes: inputBytes)
        } catch {
            writer.abandon()
            removeSegment(version: plan.version, pendingOnly: true)
            throw error
        }
    }

    /// Decides what to do with what the output folder already holds, reading its manifest once.
    /// - Returns: the manifest when the folder already holds exactly this dataset version (nothing to do).
    /// - Throws: ``RefineryError`` (code `output`) when the folder holds another version, the same pinned label
    ///   over another spec or other inputs, or a manifest Refinery cannot read, unless `--force` (which removes it).
    private func prepareFolder(_ directory: String) throws -> Manifest? {
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
        removeDataset(existing, in: directory)
        return nil
    }

    /// Removes a dataset's manifest first (so the folder stops being a dataset), then its files and its dedup index
    /// segment (it is no longer published).
    private func removeDataset(_ manifest: Manifest, in directory: String) {
        let fs = options.fileSystem
        fs.remove((directory as NSString).appendingPathComponent("manifest.json"))
        for entry in manifest.shards + manifest.rejects { fs.remove((directory as NSString).appendingPathComponent(entry.file)) }
        fs.remove((directory as NSString).appendingPathComponent("stats.json"))
        if manifest.dataset == plan.spec.output.dataset { removeSegment(version: manifest.version) }
    }

    /// Removes what a killed run left: temporary files, and shards that no manifest lists (any `.jsonl.zst` in
    /// `rejects/`, `train-*`/`validation-*` shards beside it). Other files are the user's and stay.
    private func removeStaleFiles(in directory: String) {
        let rejects = (directory as NSString).appendingPathComponent("rejects")
        for folder in [directory, rejects] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
                let isShard = name.hasSuffix(".jsonl.zst")
                    && (folder == rejects || name.hasPrefix("train-") || name.hasPrefix("validation-"))
                if name.hasSuffix(".tmp") || isShard {
                    options.fileSystem.remove((folder as NSString).appendingPathComponent(name))
                }
            }
        }
    }
}
