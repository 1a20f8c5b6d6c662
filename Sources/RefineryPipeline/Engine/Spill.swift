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
    /// How many shingle hashes it has (`verify: exact`; where: ``SpillFacts``, ``ShingleSets``).
    var shingleCount = 0
}

/// One batch's spilled records: a zstd frame of JSON lines, one per entry.
struct SpillPiece: Sendable {
    var frame: [UInt8] = []
    var entries: [SpillEntry] = []
    /// The entries as ``ByteWriter/spillEntries(_:)`` writes them, made once by the worker that made the piece (or
    /// read from a unit file), for the unit file; empty: not made yet.
    var encodedEntries: [UInt8] = []
    /// The entries' shingle hashes, back to back (each entry's `shingleCount` of them).
    var shingles: [UInt32] = []
    /// Where the unit's file holds the frame, the encoded entries and the shingles: set when the piece is written
    /// to it (``UnitWriter/append(_:)``) or read from it (``UnitStore/forEachOutput(_:firstBatch:sourceIndex:_:)``).
    var stored: StoredSpill?
}

/// One spilled batch: where its frame and its shingle hashes are, and its entries' range in the run's entry list
/// (the batch's chunk of ``SpillEntries`` has the batch's number in ``Spill/batches``).
struct SpillBatch: Sendable {
    var index: Int
    var sourceIndex: Int
    var frame: StoredBytes
    var shingles: StoredBytes
    var entries: Range<Int>
}

/// The spill between the per-record stages and the global ones (dedup, balance): the surviving records of every
/// batch, serialised as they would go into a shard and compressed at zstd level 1 (``zstdLevel``), so that the corpus
/// is never held in memory. The records stay where the map phase committed them, in the units' files: the spill is an
/// index of where each batch's frame, entries (``SpillEntries``: ids, locations, dedup keys) and shingle hashes
/// (``ShingleSets``, read when dedup verifies candidates on them) lie, and reads them back from there. (It used to
/// copy them into three temporary files, which wrote every spilled byte twice: half of all a run wrote.)
final class Spill {
    /// The zstd level of the spill's frames. The spill is written once and read once, and its lines are compressed
    /// again into the shards at the output level, so it takes zstd's fastest regular level: on the text benchmark
    /// corpus level 1 compresses about twice as fast as level 3 and decompresses 1.7 times as fast, for frames about
    /// a fifth larger (`zstd -b1` against `zstd -b3`, one core).
    static let zstdLevel: Int32 = 1

    private let files = StoredFiles()
    private(set) var batches: [SpillBatch] = []
    let entries: SpillEntries
    /// How many batches the running feed was given.
    private var fed = 0
    /// Per source: its input bytes, and the input bytes and spilled records of its units committed so far (for the
    /// feed's estimate of the records it will get).
    private var sourceBytes: [Int] = []
    private var committedBytes: [Int] = []
    private var committedRecords: [Int] = []
    /// The feed's last estimate.
    private var expected = 0
    /// Dedup's resolver when it runs beside the map (``resolveBesideMap(_:sourceBytes:)``).
    private(set) var dedupFeed: DedupFeed?

    init(balance: BalanceStage?) {
        entries = SpillEntries(files: files, balance: balance)
    }

    /// Appends one batch's piece, which must be stored in its unit's file; batches come in order.
    func append(_ piece: SpillPiece, batch: Int, sourceIndex: Int) throws {
        guard let stored = piece.stored else {
            throw RefineryError(.internal, "batch \(batch) reached the spill before its unit's file held it")
        }
        let start = entries.count
        try entries.append(piece.entries, stored: stored.entries)
        batches.append(SpillBatch(index: batch, sourceIndex: sourceIndex, frame: stored.frame, shingles: stored.shingles,
                                  entries: start..<entries.count))
    }

    /// The records of the batches `numbers`, as dedup's resolver reads them.
    func dedupChunks(_ numbers: Range<Int>) -> [DedupFeed.Chunk] {
        numbers.map { DedupFeed.Chunk(entries: entries.stored(ofChunk: $0), records: batches[$0].entries.count, shingles: batches[$0].shingles) }
    }

    /// Has dedup resolve beside the map: each unit's chunks go to `feed` once the unit is committed. `sourceBytes`:
    /// each source's input bytes, from which the feed's record count is estimated as units commit.
    func resolveBesideMap(_ feed: DedupFeed, sourceBytes: [Int]) {
        dedupFeed = feed
        self.sourceBytes = sourceBytes
        committedBytes = [Int](repeating: 0, count: sourceBytes.count)
        committedRecords = committedBytes
    }

    /// Every batch appended so far is in `unit`'s file, committed (or in those before it), where the feed can read it.
    ///
    /// The feed is also told how many records to expect: each source's spilled records per input byte so far, times
    /// its input bytes, summed over the sources with a committed unit. The estimate is passed on when it first
    /// exceeds the last by a quarter, so that the resolver grows its tables a few times, to about their final size,
    /// instead of doubling them all along.
    /// - Returns: the records the feed was just told to expect, if it was.
    @discardableResult
    func unitCommitted(_ unit: WorkUnit) -> Int? {
        guard let dedupFeed else { return nil }
        let records = batches[fed...].reduce(0) { $0 + $1.entries.count }
        dedupFeed.add(dedupChunks(fed..<batches.count))
        fed = batches.count
        guard sourceBytes.indices.contains(unit.sourceIndex) else { return nil }
        committedBytes[unit.sourceIndex] += unit.bytes
        committedRecords[unit.sourceIndex] += records
        let estimate = Self.expectedRecords(sourceBytes: sourceBytes, committedBytes: committedBytes, committedRecords: committedRecords)
        guard estimate > expected + expected / 4 else { return nil }
        expected = estimate
        dedupFeed.expect(records: expected)
        return expected
    }

    /// The records a run is expected to spill: per source with a committed unit, its records per input byte so far
    /// times its input bytes (sources with none count nothing yet).
    static func expectedRecords(sourceBytes: [Int], committedBytes: [Int], committedRecords: [Int]) -> Int {
        let estimate = sourceBytes.indices.reduce(0.0) { sum, source in
            committedBytes[source] == 0 ? sum
                : sum + Double(committedRecords[source]) * Double(sourceBytes[source]) / Double(committedBytes[source])
        }
        return Int(estimate.rounded(.up))
    }

    /// The frame of one batch.
    func frame(of batch: SpillBatch) throws -> [UInt8] {
        try files.read(batch.frame, role: "spilled records")
    }

    /// Stops dedup's feed, if it still runs, and closes the files it read.
    func close() {
        dedupFeed?.shutdown()
        files.close()
    }
}

/// The spilled records' shingle hashes, in the units' files, read back only for the candidate pairs the dedup
/// resolver verifies: the exact Jaccard similarity of two records' shingle sets, without holding any set in memory
/// for long (the last record's sorted set is kept, since it is compared with each of its candidates in turn). Used by
/// one thread, ``DedupFeed``'s, which appends each chunk before adding its records.
final class ShingleSets {
    private let files = StoredFiles()
    /// Per chunk with hashes, the number of its first hash and where its hashes are.
    private var chunks: [(first: Int, stored: StoredBytes)] = []
    /// Per record, the number of its first hash, and one more: where the next record's would start.
    private var starts: [Int] = [0]
    private var last: (record: Int, set: [UInt32])?
    /// The first read failure (the resolver's callback cannot throw); the feed reports it.
    private(set) var failure: RefineryError?
    /// Bytes of hashes.
    var bytes: Int { starts[starts.count - 1] * 4 }

    /// Appends a chunk of records, with how many hashes each has, whose hashes are stored at `stored`.
    func append(_ stored: StoredBytes, counts: some Sequence<Int>) {
        let first = starts[starts.count - 1]
        for count in counts { starts.append(starts[starts.count - 1] + count) }
        let hashes = starts[starts.count - 1] - first
        if hashes * 4 != stored.count, failure == nil {
            failure = RefineryError(.output, "the spilled shingle hashes in \(stored.file) are damaged: \(stored.count) bytes for \(hashes) hashes; run again with --restart")
        }
        if hashes > 0 { chunks.append((first, stored)) }
    }

    /// The Jaccard similarity of the shingle sets of records `a` and `b` (numbers in canonical order; repeats counted
    /// once). `b`'s set is kept for the next call: the resolver compares the new record with each candidate in turn.
    func jaccard(_ a: Int, _ b: Int) -> Double {
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

    /// A record's shingles, sorted, without repeats; `keep`: cached, for the next call.
    private func set(of record: Int, keep: Bool) -> [UInt32] {
        let first = starts[record], count = starts[record + 1] - first
        guard count > 0 else { return [] }
        if let last, last.record == record { return last.set }
        var values: [UInt32]
        do {
            // The last chunk starting at or before the record's first hash holds all of its hashes.
            var low = 0, high = chunks.count
            while high - low > 1 {
                let middle = (low + high) / 2
                if chunks[middle].first <= first { low = middle } else { high = middle }
            }
            let chunk = chunks[low]
            let bytes = try files.read(StoredBytes(file: chunk.stored.file, offset: chunk.stored.offset + (first - chunk.first) * 4, count: count * 4),
                                       role: "shingle hashes")
            values = bytes.withUnsafeBytes { Array($0.bindMemory(to: UInt32.self)) }
        } catch {
            if failure == nil { failure = error as? RefineryError ?? RefineryError(.output, "\(error)") }
            return []
        }
        values.sort()
        var unique: [UInt32] = []
        unique.reserveCapacity(values.count)
        for value in values where unique.last != value { unique.append(value) }
        if keep { last = (record, unique) }
        return unique
    }
}
