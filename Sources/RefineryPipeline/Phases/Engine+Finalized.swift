import Foundation
import RefineryCodecs
import RefineryRecords
import RefineryShards

/// The reduce over the finalize phase's output: the global stages were resolved by the resolve task and every
/// unit's shard pieces made by the finalize tasks; the reduce only appends them, in unit order, after the per-record
/// stages' outputs, as the local executor appends its own finalized batches.
extension Engine {
    /// The resolution and every unit's finalized file, when the finalize phase covered every unit from the unit
    /// files the reduce holds; otherwise nil (and a notice saying why when the phases ran in part).
    func finalizedWork(_ units: [WorkUnit], store: UnitStore) -> (FinalizeFiles.Resolution, [(path: String, hash: String)])? {
        let root = plan.spec.output.root
        let directory = FinalizeFiles.directory(root: root, version: plan.version)
        guard FileManager.default.fileExists(atPath: directory) else { return nil }
        var unitFiles: [String: String] = [:]
        for unit in units { unitFiles[unit.key] = store.recordedHash(unit) ?? "" }
        guard let (resolution, hash) = currentResolution(unitFiles: unitFiles) else {
            logger.notice("the finalize phase's output is not used: the resolve phase did not finish, or made its resolution from other units or other published versions; resolving and finalizing here")
            return nil
        }
        var files: [(path: String, hash: String)] = []
        var missing = 0
        for unit in units {
            guard let file = FinalizeFiles.finalized(unit.key, directory: directory, resolution: hash, unitFile: unitFiles[unit.key]!) else {
                missing += 1
                continue
            }
            files.append(file)
        }
        guard missing == 0 else {
            logger.notice("the finalize phase's output is not used: units are not finalized from the current resolution and unit files; resolving and finalizing here (the same dataset)",
                          metadata: ["units.missing": "\(missing)", "units": "\(units.count)"])
            return nil
        }
        return (resolution, files)
    }

    /// Appends every unit's finalized pieces to the writer with the resolution's counters, and puts the resolution's
    /// dedup index segment back as this version's pending one.
    /// - Returns: what stats.json says about the global stages.
    func writeFinalized(_ work: (FinalizeFiles.Resolution, [(path: String, hash: String)]), units: [WorkUnit],
                        writer: DatasetWriter) throws -> [String: Any] {
        let (resolution, files) = work
        var global = GlobalResolution(fates: RecordFates())
        global.counters = resolution.counters
        global.repeats = resolution.repeats
        global.categoryMix = resolution.categoryMix
        global.seconds = Dictionary(uniqueKeysWithValues: resolution.seconds.compactMap { key, value in Int(key).map { ($0, value) } })
        global.apply(to: writer)
        let segment = FinalizeFiles.path(FinalizeFiles.directory(root: plan.spec.output.root, version: plan.version), "segment.idx")
        if FileManager.default.fileExists(atPath: segment) {
            let pending = segmentPath(version: plan.version) + ".tmp"
            try? FileManager.default.createDirectory(atPath: publishedIndexDirectory, withIntermediateDirectories: true)
            try? FileManager.default.removeItem(atPath: pending)
            do {
                try FileManager.default.copyItem(atPath: segment, toPath: pending)
            } catch {
                throw RefineryError(.output, "cannot write the dedup index segment: \(error)", at: SourceLocation(file: pending))
            }
        }
        for (unit, file) in zip(units, files) {
            for output in try FinalizeFiles.loadFinal(path: file.path, hash: file.hash, sourceIndex: unit.sourceIndex) {
                try writer.append(output)
            }
        }
        var stats = (try? JSONSerialization.jsonObject(with: Data(resolution.stats.utf8)) as? [String: Any]) ?? [:]
        stats["finalized_units"] = files.count
        return stats
    }
}
