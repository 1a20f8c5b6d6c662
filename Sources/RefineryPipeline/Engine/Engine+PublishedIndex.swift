import Foundation
import RefineryCodecs
import RefineryRecords
import RefinerySpec
import RefineryStages

/// Where the dedup index of published versions lives and how a run reads and extends it: one segment file per
/// published version in `dedup-index/<dataset>/<version>.idx`, in the catalog's folder. A run loads every other
/// version's segment, and files its own when its manifest is written: the segment is written as `….idx.tmp` with
/// the shards and renamed after the manifest, so only a published version is ever in the index (a run killed
/// between the two renames it on the next, up-to-date, run).
extension PipelineSpec {
    /// The folder of the dedup index of published versions, beside the catalog: one subfolder per dataset.
    var dedupIndexFolder: String {
        ((catalogPath as NSString).deletingLastPathComponent as NSString).appendingPathComponent("dedup-index")
    }
}

extension Engine {
    /// The folder of this dataset's segments.
    var publishedIndexDirectory: String {
        (plan.spec.dedupIndexFolder as NSString).appendingPathComponent(plan.spec.output.dataset)
    }

    /// The segment file of a version.
    func segmentPath(version: String) -> String {
        (publishedIndexDirectory as NSString).appendingPathComponent("\(version).idx")
    }

    /// Loads the segments of every other version of the dataset, in file-name order.
    /// - Returns: the index (`nil` when there is nothing to load) and what the run's statistics should say.
    /// - Throws: ``RefineryError`` (code `output`) naming a damaged segment and what to do about it.
    func loadPublishedIndex(for stage: DedupStage) throws -> (index: PublishedIndex?, stats: [String: Any]) {
        guard stage.acrossVersions else { return (nil, [:]) }
        var clock = Stopwatch()
        let directory = publishedIndexDirectory
        let names = otherSegmentNames(in: directory)
        guard !names.isEmpty else { return (nil, [:]) }
        var index = PublishedIndex(stage: stage)
        var skipped: [String] = []
        var fileBytes = 0
        for name in names {
            let path = (directory as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: path) else {
                throw RefineryError(.output, "cannot read the dedup index segment", at: SourceLocation(file: path))
            }
            let file: PublishedIndexFile
            do {
                file = try PublishedIndexFile(decoding: [UInt8](data))
            } catch let error as RefineryError {
                throw RefineryError(.integrity, "\(error.message). Move it out of \(directory) to run without it "
                    + "(this version's records are then not deduplicated against that version's)", at: SourceLocation(file: path))
            }
            do {
                try index.add(file)
                fileBytes += data.count
            } catch let error as RefineryError {
                logger.warning("dedup index segment not used", metadata: ["file": "\(path)", "reason": "\(error.message)"])
                skipped.append(name)
            }
        }
        let seconds = clock.lap()
        let records = index.count
        var stats: [String: Any] = [
            "versions": index.segments.map(\.version),
            "records": records,
            "load_seconds": seconds,
            "file_bytes_per_record": records == 0 ? 0 : (Double(fileBytes) / Double(records) * 10).rounded() / 10,
            "memory_bytes_per_record": records == 0 ? 0 : (Double(index.memoryBytes) / Double(records) * 10).rounded() / 10,
        ]
        if !skipped.isEmpty { stats["skipped"] = skipped }
        logger.info("loaded the dedup index of published versions",
                    metadata: ["versions": "\(index.segments.count)", "records": "\(records)", "seconds": "\(seconds)"])
        return (records == 0 ? nil : index, stats)
    }

    /// The segment files of the versions this run deduplicates against, sorted: every published version's but this
    /// version's own and the one a `--force` run replaces (still in place until this run's dataset is written).
    private func otherSegmentNames(in directory: String) -> [String] {
        var excluded: Set<String> = ["\(plan.version).idx"]
        if let replaced = replacedDataset, replaced.dataset == plan.spec.output.dataset { excluded.insert("\(replaced.version).idx") }
        return ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".idx") && !excluded.contains($0) }
            .sorted()
    }

    /// A segment's file bytes, and their size per record (for stats.json).
    func encodeSegment(_ segment: PublishedIndexFile) throws -> (bytes: [UInt8], perRecord: Double) {
        let bytes = try segment.encoded()
        return (bytes, segment.records == 0 ? 0 : (Double(bytes.count) / Double(segment.records) * 10).rounded() / 10)
    }

    /// The dedup index segments of other versions this run's dedup reads, as `name size mtime` (sorted): what a
    /// resolution made earlier must still match to be used.
    func publishedSegmentStamps() -> [String] {
        guard plan.dedup?.acrossVersions == true else { return [] }
        let directory = publishedIndexDirectory
        return otherSegmentNames(in: directory)
            .map { name in
                let stamp = RunPlan.stamp((directory as NSString).appendingPathComponent(name))
                return "\(name) \(stamp?.size ?? -1) \(stamp?.modified ?? -1)"
            }
    }

    /// Writes this version's segment (``encodeSegment(_:)``) as `….idx.tmp`; ``publishSegment()`` renames it once the
    /// manifest is written.
    func writePendingSegment(_ bytes: [UInt8]) throws {
        let path = segmentPath(version: plan.version) + ".tmp"
        do {
            try FileManager.default.createDirectory(atPath: publishedIndexDirectory, withIntermediateDirectories: true)
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        } catch {
            throw RefineryError(.output, "cannot write the dedup index segment: \(error)", at: SourceLocation(file: path))
        }
    }

    /// Renames a pending segment of this version into place (after the manifest: the version is published).
    func publishSegment() throws {
        let path = segmentPath(version: plan.version)
        guard FileManager.default.fileExists(atPath: path + ".tmp") else { return }
        do {
            if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
            try FileManager.default.moveItem(atPath: path + ".tmp", toPath: path)
        } catch {
            throw RefineryError(.output, "cannot publish the dedup index segment: \(error)", at: SourceLocation(file: path))
        }
    }

    /// Removes a version's segment, published or pending (its dataset is being replaced or the run failed).
    func removeSegment(version: String, pendingOnly: Bool = false) {
        let path = segmentPath(version: version)
        try? FileManager.default.removeItem(atPath: path + ".tmp")
        if !pendingOnly { try? FileManager.default.removeItem(atPath: path) }
    }
}
