import Foundation
import RefineryCodecs
import RefineryRecords
import RefineryShards
import RefineryStages

/// What the run keeps in memory about one spilled record until the global stages have decided its fate.
struct SpillEntry: Sendable {
    var id: String
    var category: String
    var location: SourceLocation
    /// Bytes of its JSON line in the spill frame (without the newline).
    var lineBytes: Int
    /// UTF-8 bytes of its content, for the stage counters.
    var contentBytes: Int
    /// Unicode scalars of its content, for the category mix.
    var contentChars: Int
    var quality: Double?
    var dedup: DedupKeys?
    /// Its shingle hashes in the spill's shingle file (`verify: exact`): how many, and where (set by the spill).
    var shingleCount = 0
    var shingleOffset = 0
}

/// One batch's spilled records: a zstd frame of JSON lines, one per entry.
struct SpillPiece: Sendable {
    var frame: [UInt8] = []
    var entries: [SpillEntry] = []
    /// The entries' shingle hashes, back to back (each entry's `shingleCount` of them).
    var shingles: [UInt32] = []
}

/// Where one batch's frame is in the spill file, and its entries' range in the run's entry list.
struct SpillBatch: Sendable {
    var index: Int
    var sourceIndex: Int
    var offset: Int
    var length: Int
    var entries: Range<Int>
}

/// The spill between the per-record stages and the global ones (dedup, balance): the surviving records of every
/// batch, serialised and compressed as they would go into a shard, appended to one temporary file in the output
/// folder, so that the corpus is never held in memory. Read back batch by batch when the shards are written.
/// Beside it, a second file holds the records' shingle hashes when dedup verifies candidates on them
/// (``ShingleSets``).
final class SpillFile {
    let path: String
    private let handle: FileHandle
    private(set) var batches: [SpillBatch] = []
    private(set) var entries: [SpillEntry] = []
    private var offset = 0
    let shingles: ShingleSets

    init(directory: String, version: String) throws {
        path = (directory as NSString).appendingPathComponent(".spill-\(version).tmp")
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forUpdatingAtPath: path) else {
            throw RefineryError(.output, "cannot create the spill file \(path)")
        }
        self.handle = handle
        shingles = try ShingleSets(path: (directory as NSString).appendingPathComponent(".shingles-\(version).tmp"))
    }

    /// Appends one batch's piece; batches come in order.
    func append(_ piece: SpillPiece, batch: Int, sourceIndex: Int) throws {
        let start = entries.count
        var shingleOffset = try shingles.append(piece.shingles)
        for var entry in piece.entries {
            entry.shingleOffset = shingleOffset
            shingleOffset += entry.shingleCount
            entries.append(entry)
        }
        if !piece.frame.isEmpty {
            do { try handle.write(contentsOf: piece.frame) } catch {
                throw RefineryError(.output, "cannot write the spill file \(path): \(error)")
            }
        }
        batches.append(SpillBatch(index: batch, sourceIndex: sourceIndex, offset: offset, length: piece.frame.count,
                                  entries: start..<entries.count))
        offset += piece.frame.count
    }

    /// The frame of one batch.
    func frame(of batch: SpillBatch) throws -> [UInt8] {
        guard batch.length > 0 else { return [] }
        do {
            try handle.seek(toOffset: UInt64(batch.offset))
            guard let data = try handle.read(upToCount: batch.length), data.count == batch.length else {
                throw RefineryError(.output, "the spill file \(path) is shorter than written")
            }
            return [UInt8](data)
        } catch let error as RefineryError {
            throw error
        } catch {
            throw RefineryError(.output, "cannot read the spill file \(path): \(error)")
        }
    }

    /// Closes and deletes the files.
    func remove() {
        try? handle.close()
        try? FileManager.default.removeItem(atPath: path)
        shingles.remove()
    }
}

/// The spilled records' shingle hashes, in a temporary file read back only for the candidate pairs the dedup
/// resolver verifies: the exact Jaccard similarity of two records' shingle sets, without holding any set in memory
/// for long (the last record's sorted set is kept, since it is compared with each of its candidates in turn).
final class ShingleSets {
    let path: String
    private let handle: FileHandle
    private var count = 0
    private var last: (offset: Int, set: [UInt32])?
    /// The first read failure; the engine reports it after resolution.
    private(set) var failure: RefineryError?
    /// Bytes written.
    var bytes: Int { count * 4 }

    init(path: String) throws {
        self.path = path
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forUpdatingAtPath: path) else {
            throw RefineryError(.output, "cannot create the shingle spill file \(path)")
        }
        self.handle = handle
    }

    /// Appends hashes; returns the index of the first.
    func append(_ hashes: [UInt32]) throws -> Int {
        let start = count
        guard !hashes.isEmpty else { return start }
        do {
            try handle.seekToEnd()
            try hashes.withUnsafeBytes { try handle.write(contentsOf: Data($0)) }
        } catch {
            throw RefineryError(.output, "cannot write the shingle spill file \(path): \(error)")
        }
        count += hashes.count
        return start
    }

    /// The Jaccard similarity of two entries' shingle sets (repeats counted once).
    func jaccard(_ a: SpillEntry, _ b: SpillEntry) -> Double {
        let x = set(of: b, keep: true), y = set(of: a, keep: false)
        guard !x.isEmpty || !y.isEmpty else { return 1 }
        var i = 0, j = 0, common = 0
        while i < x.count && j < y.count {
            if x[i] == y[j] {
                common += 1
                i += 1
                j += 1
            } else if x[i] < y[j] {
                i += 1
            } else {
                j += 1
            }
        }
        return Double(common) / Double(x.count + y.count - common)
    }

    /// An entry's shingles, sorted, without repeats; `keep`: cached, for the next call (the new record of
    /// ``jaccard(_:_:)``, compared with each of its candidates in turn).
    private func set(of entry: SpillEntry, keep: Bool) -> [UInt32] {
        if let last, last.offset == entry.shingleOffset { return last.set }
        guard entry.shingleCount > 0 else { return [] }
        var values: [UInt32] = []
        do {
            try handle.seek(toOffset: UInt64(entry.shingleOffset * 4))
            guard let data = try handle.read(upToCount: entry.shingleCount * 4), data.count == entry.shingleCount * 4 else {
                throw RefineryError(.output, "the shingle spill file \(path) is shorter than written")
            }
            values = data.withUnsafeBytes { Array($0.bindMemory(to: UInt32.self)) }
        } catch {
            if failure == nil { failure = error as? RefineryError ?? RefineryError(.output, "cannot read the shingle spill file \(path): \(error)") }
            return []
        }
        values.sort()
        var unique: [UInt32] = []
        unique.reserveCapacity(values.count)
        for value in values where unique.last != value { unique.append(value) }
        if keep { last = (entry.shingleOffset, unique) }
        return unique
    }

    func remove() {
        try? handle.close()
        try? FileManager.default.removeItem(atPath: path)
    }
}
