import Foundation
import Logging
import RefineryCatalog
import RefineryCodecs
import RefineryRecords
import RefineryShards

/// The committed work of a run's units: one file per unit in `.work/` under the output root (the dataset folder,
/// or the folder above `{version}`, so that a retry whose version label changed still finds it), holding every
/// batch output the unit made (compressed pieces, counters, spilled records), and one row per unit in the catalog.
///
/// A unit is committed in two steps: its file is written under a temporary name, synced and renamed, then its
/// row is inserted in one catalog transaction. The row is the commit: a file without a row (killed between the
/// two) is written again; a row whose file is missing or does not match its recorded XXH3 is ignored and the unit
/// is read again. A run that finishes removes the folder and the rows.
///
/// A map task of a phased run (``RunPhase/map(task:of:)``) commits without the catalog, which many tasks on many
/// hosts cannot share: after the rename it writes a marker, `<key>.done`, naming the file, its XXH3 and the task.
/// The next process that uses the catalog for this root (the reduce, or a plain run) files the markers whose spec
/// matches as rows, so from then on a unit is committed the one way.
final class UnitStore {
    static let magic = Array("refinery-unit/5\n".utf8)
    static let batchTag: UInt8 = 1
    static let endTag: UInt8 = 2

    let directory: String
    private let root: String
    private let specHash: String
    /// Where commits are recorded: the catalog (rows of this run), or markers of a map task.
    private let recorder: Recorder
    private let fileSystem: any OutputFileSystem
    private let logger: Logger
    /// Units committed by earlier runs (or tasks) under this root, by key.
    private let committed: [String: Catalog.UnitRecord]

    /// Where a store records its commits.
    enum Recorder {
        /// Rows of the catalog, for run `runID` (after filing the markers map tasks left).
        case catalog(Catalog, runID: Int64)
        /// `<key>.done` markers, for the map phase's task `task` of `count`.
        case markers(task: Int, count: Int)
    }

    init(root: String, specHash: String, recorder: Recorder, fileSystem: any OutputFileSystem, logger: Logger) throws {
        self.root = root
        self.specHash = specHash
        self.recorder = recorder
        self.fileSystem = fileSystem
        self.logger = logger
        directory = Self.folder(root: root)
        try fileSystem.makeDirectory(directory)
        switch recorder {
        case .catalog(let catalog, let runID):
            try Self.fileMarkers(root: root, specHash: specHash, catalog: catalog, runID: runID)
            committed = Dictionary(try catalog.committedUnits(outputDirectory: root).map { ($0.key, $0) }) { $1 }
        case .markers:
            committed = Dictionary(Self.markers(root: root, specHash: specHash).map { ($0.key, $0) }) { $1 }
        }
    }

    static func folder(root: String) -> String { (root as NSString).appendingPathComponent(".work") }

    /// The committed work of a unit, when an earlier run committed it (the key covers the spec and the release)
    /// and its file is there with the XXH3 the catalog recorded; otherwise the unit is read again.
    func reusable(_ unit: WorkUnit) -> CommittedUnit? {
        guard let record = committed[unit.key], FileManager.default.fileExists(atPath: record.file) else { return nil }
        guard (try? XXH3.hex(RunPlan.contentHash(record.file))) == record.fileXXH3 else {
            logger.warning("a committed work unit does not match its recorded XXH3; reading the unit again",
                           metadata: ["unit": "\(unit.name)", "file": "\(record.file)"])
            return nil
        }
        return CommittedUnit(file: record.file, fileXXH3: record.fileXXH3, batches: record.batches)
    }


    /// The XXH3 recorded for a committed unit's file (not checked against the file: ``reusable(_:)`` does that).
    func recordedHash(_ unit: WorkUnit) -> String? { committed[unit.key]?.fileXXH3 }

    /// Starts writing a unit's file.
    func begin(_ unit: WorkUnit) throws -> UnitWriter {
        let path = (directory as NSString).appendingPathComponent("\(unit.key).unit")
        return try UnitWriter(unit: unit, path: path, fileSystem: fileSystem)
    }

    /// Whether a unit is committed (by an earlier run or task) and its file is there; its hash is checked when it
    /// is loaded (``reusable(_:)``).
    func isCommitted(_ unit: WorkUnit) -> Bool {
        guard let record = committed[unit.key] else { return false }
        return FileManager.default.fileExists(atPath: record.file)
    }

    /// Commits a unit whose file is complete: renames it into place, then records it in the catalog, or writes
    /// its marker.
    func commit(_ writer: UnitWriter, end: UnitEnd) throws {
        let (path, hash) = try writer.finish(end: end)
        var record = Catalog.UnitRecord(outputDirectory: root, specHash: specHash, key: writer.unit.key, file: path, fileXXH3: hash,
                                        runID: 0, batches: end.batches, records: writer.records, bytes: writer.unit.bytes)
        switch recorder {
        case .catalog(let catalog, let runID):
            record.runID = runID
            try catalog.commitUnit(record)
        case .markers(let task, let count):
            try writeMarker(record, task: task, count: count)
        }
    }

    /// The marker of a unit a map task committed: JSON, written under a temporary name, synced and renamed.
    private func writeMarker(_ unit: Catalog.UnitRecord, task: Int, count: Int) throws {
        let object: [String: Any] = [
            "format": Self.markerFormat, "key": unit.key, "spec_hash": unit.specHash, "file": unit.file, "file_xxh3": unit.fileXXH3,
            "batches": unit.batches, "records": unit.records, "bytes": unit.bytes, "task_index": task, "task_count": count,
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        try fileSystem.writeAtomically([UInt8](data), to: Self.markerPath(directory: directory, key: unit.key))
    }

    static let markerFormat = "refinery-unit-done/1"

    static func markerPath(directory: String, key: String) -> String {
        (directory as NSString).appendingPathComponent("\(key).done")
    }

    /// The units map tasks committed under a root for a spec, from their markers (unreadable markers and markers
    /// of other specs are left out: their units are read again).
    static func markers(root: String, specHash: String) -> [Catalog.UnitRecord] {
        let directory = folder(root: root)
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".done") }.sorted()
        return names.compactMap { name in
            guard let data = FileManager.default.contents(atPath: (directory as NSString).appendingPathComponent(name)),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  object["format"] as? String == markerFormat, object["spec_hash"] as? String == specHash,
                  let key = object["key"] as? String, let file = object["file"] as? String, let hash = object["file_xxh3"] as? String,
                  let batches = object["batches"] as? Int, let records = object["records"] as? Int, let bytes = object["bytes"] as? Int
            else { return nil }
            return Catalog.UnitRecord(outputDirectory: root, specHash: specHash, key: key, file: file, fileXXH3: hash, runID: 0,
                                      batches: batches, records: records, bytes: bytes)
        }
    }

    /// The keys of the units committed under a root, by catalog row or by a map task's marker (read without
    /// filing the markers: the submitter, `refinery status` and the reduce's first check only look).
    static func committedKeys(root: String, specHash: String, catalog: Catalog) throws -> Set<String> {
        Set(try catalog.committedUnits(outputDirectory: root).map(\.key)).union(markers(root: root, specHash: specHash).map(\.key))
    }

    /// The committed units of this spec under a root, by key, from the catalog's rows (when there is a catalog)
    /// and the map tasks' markers, a marker winning over a row with another file hash (as ``fileMarkers`` files
    /// them). For a process that only reads them (a dedup task), without filing anything.
    static func committedRecords(root: String, specHash: String, catalog: Catalog?) throws -> [String: Catalog.UnitRecord] {
        var records: [String: Catalog.UnitRecord] = [:]
        for row in try catalog?.committedUnits(outputDirectory: root) ?? [] where row.specHash == specHash { records[row.key] = row }
        for marker in markers(root: root, specHash: specHash) { records[marker.key] = marker }
        return records.filter { FileManager.default.fileExists(atPath: $0.value.file) }
    }

    /// Files the markers of map tasks as rows of run `runID`, for units the catalog does not list, or lists with
    /// another file hash (an interrupted run committed the unit, then a map task read it again and rewrote its file:
    /// the marker describes the file on disk).
    static func fileMarkers(root: String, specHash: String, catalog: Catalog, runID: Int64) throws {
        let known = Dictionary(try catalog.committedUnits(outputDirectory: root).map { ($0.key, $0.fileXXH3) }) { $1 }
        for var unit in markers(root: root, specHash: specHash) where known[unit.key] != unit.fileXXH3 {
            unit.runID = runID
            try catalog.commitUnit(unit)
        }
    }

    /// Removes every unit row and file under a root (a run of the dataset finished, or `--restart`): rows first,
    /// so that no row ever names a missing file it would be trusted for.
    static func discard(root: String, catalog: Catalog) throws {
        try catalog.discardUnits(outputDirectory: root)
        try? FileManager.default.removeItem(atPath: folder(root: root))
    }

    /// ``discard(root:catalog:)`` with the files removed on a thread of their own, which the caller waits for: the
    /// rows go first, as there. (Unlinking a 1 GB run's spill kept a core waiting on the file system for 0.34 s.)
    static func discardBeside(root: String, catalog: Catalog) throws -> BackgroundWork<Void> {
        try catalog.discardUnits(outputDirectory: root)
        let folder = folder(root: root)
        return BackgroundWork { try? FileManager.default.removeItem(atPath: folder) }
    }

    /// Reads a committed unit back: its batch outputs, numbered from `firstBatch`, and its end.
    /// - Throws: ``RefineryError`` (code `integrity`) when the file does not match the hash the catalog recorded.
    static func load(_ record: CommittedUnit, firstBatch: Int, sourceIndex: Int) throws -> ([BatchOutput], UnitEnd) {
        var outputs: [BatchOutput] = []
        let end = try forEachOutput(record, firstBatch: firstBatch, sourceIndex: sourceIndex) { outputs.append($0) }
        return (outputs, end)
    }

    /// Reads a committed unit back one batch output at a time, for a reader that needs only part of each (a dedup
    /// task: the spilled records' keys), so that one batch's decoded output is held at a time, not the unit's.
    /// - Returns: the unit's end.
    /// - Throws: as ``load(_:firstBatch:sourceIndex:)``, and what `body` throws.
    static func forEachOutput(_ record: CommittedUnit, firstBatch: Int, sourceIndex: Int, _ body: (BatchOutput) throws -> Void) throws -> UnitEnd {
        guard let bytes = POSIXFileSystem.contents(atPath: record.file) else {
            throw RefineryError(.integrity, "cannot read the committed work unit", at: SourceLocation(file: record.file))
        }
        guard XXH3.hex(XXH3.hash(bytes)) == record.fileXXH3 else {
            throw RefineryError(.integrity, "the committed work unit does not match the XXH3 the catalog recorded (\(record.fileXXH3)); "
                + "run again with --restart to redo all units", at: SourceLocation(file: record.file))
        }
        do {
            guard bytes.starts(with: magic) else { throw UnitFileError.badHeader }
            var reader = ByteReader(bytes, offset: magic.count)
            var batches = 0
            while true {
                let tag = try reader.int()
                switch UInt8(truncatingIfNeeded: tag) {
                case batchTag:
                    try body(try reader.batchOutput(index: firstBatch + batches, sourceIndex: sourceIndex, file: record.file))
                    batches += 1
                case endTag:
                    var end = UnitEnd()
                    end.counts.lines = try reader.int()
                    end.counts.blankLines = try reader.int()
                    end.counts.bytes = try reader.int()
                    end.batches = try reader.int()
                    guard end.batches == batches, reader.isAtEnd else { throw UnitFileError.truncated(at: reader.offset) }
                    return end
                default:
                    throw UnitFileError.unknownEntry(UInt8(truncatingIfNeeded: tag))
                }
            }
        } catch let error as UnitFileError {
            throw RefineryError(.integrity, "the committed work unit is damaged: \(error); run again with --restart",
                                at: SourceLocation(file: record.file))
        }
    }
}

/// Writes one unit's file as its batch outputs arrive, under a temporary name.
final class UnitWriter {
    let unit: WorkUnit
    private let path: String
    private let fileSystem: any OutputFileSystem
    private let file: any OutputFile
    private let hasher: XXH3Hasher
    /// Bytes written so far.
    private var size = 0
    /// Records read (the `read` stage's input) so far.
    private(set) var records = 0

    init(unit: WorkUnit, path: String, fileSystem: any OutputFileSystem) throws {
        self.unit = unit
        self.path = path
        self.fileSystem = fileSystem
        file = try fileSystem.create(path + ".tmp")
        hasher = try XXH3Hasher()
        do {
            try write(UnitStore.magic)
        } catch {
            abandon()
            throw error
        }
    }

    /// Appends a batch's output. Returns where its spilled records are in the file, once committed under its final
    /// name (the spill reads them from there).
    func append(_ output: BatchOutput) throws -> StoredSpill? {
        var writer = ByteWriter()
        writer.int(Int(UnitStore.batchTag))
        let parts = writer.batchOutput(output)
        records += output.counters.first?.recordsIn ?? 0
        let base = size
        try write(writer.bytes)
        return parts.map { parts in
            func stored(_ range: Range<Int>) -> StoredBytes { StoredBytes(file: path, offset: base + range.lowerBound, count: range.count) }
            return StoredSpill(frame: stored(parts.frame), entries: stored(parts.entries))
        }
    }

    /// Writes the end, syncs, closes and renames the file into place.
    /// - Returns: the final path and the XXH3 of the file's bytes.
    func finish(end: UnitEnd) throws -> (String, String) {
        var writer = ByteWriter()
        writer.int(Int(UnitStore.endTag))
        writer.int(end.counts.lines)
        writer.int(end.counts.blankLines)
        writer.int(end.counts.bytes)
        writer.int(end.batches)
        try write(writer.bytes)
        try file.close()
        try fileSystem.rename(path + ".tmp", to: path)
        return (path, XXH3.hex(hasher.digest))
    }

    /// Gives up on the unit (the run failed): the temporary file is removed.
    func abandon() {
        try? file.close()
        fileSystem.remove(path + ".tmp")
    }

    private func write(_ bytes: [UInt8]) throws {
        hasher.update(bytes)
        try bytes.withUnsafeBytes { try file.write($0) }
        size += bytes.count
    }
}
