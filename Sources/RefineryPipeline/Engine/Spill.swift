import Foundation
import RefineryCodecs
import RefineryRecords
import RefineryShards
import RefineryStages

/// What the run keeps about one spilled record until the global stages have decided its fate: on disk
/// (``SpillEntries``), but for its ``SpillFacts``.
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
    /// How many shingle hashes it has in the spill's shingle file (`verify: exact`; where: ``SpillFacts``).
    var shingleCount = 0
}

/// One batch's spilled records: a zstd frame of JSON lines, one per entry.
struct SpillPiece: Sendable {
    var frame: [UInt8] = []
    var entries: [SpillEntry] = []
    /// The entries as ``ByteWriter/spillEntries(_:)`` writes them, made once by the worker that made the piece (or
    /// read from a unit file), for the unit file and the spill's entry file; empty: not made yet.
    var encodedEntries: [UInt8] = []
    /// The entries' shingle hashes, back to back (each entry's `shingleCount` of them).
    var shingles: [UInt32] = []
}

/// Where one batch's frame is in the spill file, and its entries' range in the run's entry list (the batch's
/// chunk of ``SpillEntries`` has the batch's number in ``SpillFile/batches``).
struct SpillBatch: Sendable {
    var index: Int
    var sourceIndex: Int
    var offset: Int
    var length: Int
    var entries: Range<Int>
}

/// The spill between the per-record stages and the global ones (dedup, balance): the surviving records of every
/// batch, serialised as they would go into a shard and compressed at zstd level 1 (``zstdLevel``), appended to one
/// temporary file in the output folder, so that the corpus is never held in memory. Read back batch by batch when the
/// shards are written.
/// Beside it, a second file holds the records' entries (``SpillEntries``: ids, locations, dedup keys), and a third
/// their shingle hashes when dedup verifies candidates on them (``ShingleSets``).
final class SpillFile {
    /// The zstd level of the spill's frames. The spill is written once and read once, and its lines are compressed
    /// again into the shards at the output level, so it takes zstd's fastest regular level: on the text benchmark
    /// corpus level 1 compresses about twice as fast as level 3 and decompresses 1.7 times as fast, for frames about
    /// a fifth larger (`zstd -b1` against `zstd -b3`, one core).
    static let zstdLevel: Int32 = 1

    private let file: TemporaryFile
    private(set) var batches: [SpillBatch] = []
    let entries: SpillEntries
    let shingles: ShingleSets

    init(directory: String, version: String, balance: BalanceStage?) throws {
        file = try TemporaryFile(path: (directory as NSString).appendingPathComponent(".spill-\(version).tmp"), role: "spill file")
        entries = try SpillEntries(path: (directory as NSString).appendingPathComponent(".entries-\(version).tmp"), balance: balance)
        shingles = try ShingleSets(path: (directory as NSString).appendingPathComponent(".shingles-\(version).tmp"))
    }

    /// Appends one batch's piece; batches come in order.
    func append(_ piece: SpillPiece, batch: Int, sourceIndex: Int) throws {
        let start = entries.count
        try entries.append(piece.entries, encoded: piece.encodedEntries, firstShingle: try shingles.append(piece.shingles))
        let offset = try file.append(piece.frame)
        batches.append(SpillBatch(index: batch, sourceIndex: sourceIndex, offset: offset, length: piece.frame.count,
                                  entries: start..<entries.count))
    }

    /// The frame of one batch.
    func frame(of batch: SpillBatch) throws -> [UInt8] {
        try file.read(at: batch.offset, count: batch.length)
    }

    /// Closes and deletes the files.
    func remove() {
        file.remove()
        entries.remove()
        shingles.remove()
    }
}

/// The spilled records' shingle hashes, in a temporary file read back only for the candidate pairs the dedup
/// resolver verifies: the exact Jaccard similarity of two records' shingle sets, without holding any set in memory
/// for long (the last record's sorted set is kept, since it is compared with each of its candidates in turn).
final class ShingleSets {
    private let file: TemporaryFile
    private var count = 0
    private var last: (offset: Int, set: [UInt32])?
    /// The first read failure; the engine reports it after resolution.
    private(set) var failure: RefineryError?
    /// Bytes written.
    var bytes: Int { count * 4 }

    init(path: String) throws {
        file = try TemporaryFile(path: path, role: "shingle spill file")
    }

    /// Appends hashes; returns the index of the first.
    func append(_ hashes: [UInt32]) throws -> Int {
        let start = count
        _ = try hashes.withUnsafeBytes { try file.append($0) }
        count += hashes.count
        return start
    }

    /// The Jaccard similarity of two records' shingle sets (repeats counted once).
    func jaccard(_ a: SpillFacts, _ b: SpillFacts) -> Double {
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
    private func set(of entry: SpillFacts, keep: Bool) -> [UInt32] {
        guard entry.shingleCount > 0 else { return [] }
        if let last, last.offset == entry.shingleOffset { return last.set }
        var values: [UInt32]
        do {
            let bytes = try file.read(at: entry.shingleOffset * 4, count: Int(entry.shingleCount) * 4)
            values = bytes.withUnsafeBytes { Array($0.bindMemory(to: UInt32.self)) }
        } catch {
            if failure == nil { failure = error as? RefineryError ?? RefineryError(.output, "\(error)") }
            return []
        }
        values.sort()
        var unique: [UInt32] = []
        unique.reserveCapacity(values.count)
        for value in values where unique.last != value { unique.append(value) }
        if keep { last = (entry.shingleOffset, unique) }
        return unique
    }

    func remove() { file.remove() }
}

/// A temporary file written by appending and read back by ranges, with errors that name it.
final class TemporaryFile {
    let path: String
    /// What the file is, for messages ("spill file").
    let role: String
    private let handle: FileHandle
    private var size = 0

    init(path: String, role: String) throws {
        self.path = path
        self.role = role
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forUpdatingAtPath: path) else {
            throw RefineryError(.output, "cannot create the \(role) \(path)")
        }
        self.handle = handle
    }

    /// Appends bytes at the end; returns the offset they start at.
    func append(_ bytes: UnsafeRawBufferPointer) throws -> Int {
        let offset = size
        guard !bytes.isEmpty else { return offset }
        do {
            try handle.seek(toOffset: UInt64(offset))
            try handle.write(contentsOf: Data(bytes))
        } catch {
            throw RefineryError(.output, "cannot write the \(role) \(path): \(error)")
        }
        size += bytes.count
        return offset
    }

    func append(_ bytes: [UInt8]) throws -> Int {
        try bytes.withUnsafeBytes { try append($0) }
    }

    /// `count` bytes from `offset`.
    func read(at offset: Int, count: Int) throws -> [UInt8] {
        guard count > 0 else { return [] }
        do {
            try handle.seek(toOffset: UInt64(offset))
            guard let data = try handle.read(upToCount: count), data.count == count else {
                throw RefineryError(.output, "the \(role) \(path) is shorter than written")
            }
            return [UInt8](data)
        } catch let error as RefineryError {
            throw error
        } catch {
            throw RefineryError(.output, "cannot read the \(role) \(path): \(error)")
        }
    }

    /// Closes and deletes the file.
    func remove() {
        try? handle.close()
        try? FileManager.default.removeItem(atPath: path)
    }
}
