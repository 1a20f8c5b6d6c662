import Foundation
import RefineryCodecs
import RefineryRecords
import RefineryReport
import RefineryShards
import RefineryStages
#if canImport(Glibc)
import Glibc
#endif

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
    /// What the report reads of the record, for the run's tally of the records it keeps (``KeptTally``); its
    /// category is ``category``, its characters ``contentChars``.
    var report: RecordFacts?
}

/// One batch's spilled records: a zstd frame of JSON lines, one per entry.
struct SpillPiece: Sendable {
    var frame: [UInt8] = []
    var entries: [SpillEntry] = []
    /// The entries as ``ByteWriter/spillEntries(_:)`` writes them, made once by the worker that made the piece (or
    /// read from a unit file), for the unit file; empty: not made yet.
    var encodedEntries: [UInt8] = []
    /// Where the unit's file holds the frame and the encoded entries: set when the piece is written
    /// to it (``UnitWriter/append(_:)``) or read from it (``UnitStore/forEachOutput(_:firstBatch:sourceIndex:_:)``).
    var stored: StoredSpill?
}

/// One spilled batch: where its frame is, and its entries' range in the run's entry list (the batch's chunk of
/// ``SpillEntries`` has the batch's number in ``Spill/batches``).
struct SpillBatch: Sendable {
    var index: Int
    var sourceIndex: Int
    var frame: StoredBytes
    var entries: Range<Int>
}

/// The spill between the per-record stages and the global ones (dedup, balance): the surviving records of every
/// batch, serialised as they would go into a shard and compressed at zstd's fast level -3 (``zstdLevel``), so that
/// the corpus is never held in memory. The records stay where the map phase committed them, in the units' files: the
/// spill is an index of where each batch's frame and entries (``SpillEntries``: ids, locations, dedup keys) lie, and
/// reads them back from there. (It used to copy them into temporary files, which wrote every spilled byte twice:
/// half of all a run wrote.)
final class Spill {
    /// The zstd level of the spill's frames. The spill is written once and read once, and its lines are compressed
    /// again into the shards at the output level, so it takes one of zstd's fast levels: on the kept lines of the
    /// 1 GB benchmark corpus `--fast=3` compresses at 569 MB/s against level 1's 413 (and level 3's 243) and
    /// decompresses at 2.2 GB/s against 1.6, for frames a third larger (`zstd -b`, one core). Larger frames cost
    /// writes, which into fresh page cache are not free (1.6 s of system time per GB on the benchmark VM), so faster
    /// levels gain no more: over three alternating 1 GB runs, -3 and -6 both took about 1 CPU-second less than
    /// level 1, 0.3-0.5 s of wall time.
    static let zstdLevel: Int32 = -3

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
        batches.append(SpillBatch(index: batch, sourceIndex: sourceIndex, frame: stored.frame, entries: start..<entries.count))
    }

    /// The records of the batches `numbers`, as dedup's resolver reads them.
    func dedupChunks(_ numbers: Range<Int>) -> [DedupFeed.Chunk] {
        numbers.map { DedupFeed.Chunk(entries: entries.stored(ofChunk: $0), records: batches[$0].entries.count) }
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

    /// The JSON lines of `records` (entry numbers), as the map spilled them; each batch that holds some is read once.
    /// - Throws: ``RefineryError`` (code `output`) naming a unit's file that cannot be read back or is damaged.
    func lines(of records: Set<Int>) throws -> [Int: [UInt8]] {
        var lines: [Int: [UInt8]] = [:]
        for (chunk, indexes) in entries.chunks(holding: records.sorted()) {
            try Self.forEachLine(of: indexes, in: batches[chunk], files: files) { record, line in lines[record] = Array(line) }
        }
        return lines
    }

    /// Passes the lines of `records` (ascending entry numbers, all in `batch`) to `body` in order: the batch's frame is
    /// read through `files` (a thread's own) and decompressed, and its lines found up to the last one wanted.
    /// - Throws: ``damaged(_:in:)`` when the frame cannot be read back or has too few lines, or what `body` throws.
    static func forEachLine(of records: [Int], in batch: SpillBatch, files: StoredFiles,
                            _ body: (Int, UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        let frame = try files.read(batch.frame, role: "spilled records")
        let lines: [UInt8]
        do {
            lines = try ZstdDecompressor.decompressAll(frame)
        } catch {
            throw damaged("\(error)", in: batch)
        }
        try lines.withUnsafeBufferPointer { bytes in
            // Lines are JSON without raw newlines, one per record, in the batch's order.
            var line = batch.entries.lowerBound, start = 0
            for record in records {
                var end = start
                while true {
                    let rest = UnsafeBufferPointer(rebasing: bytes[start...])
                    guard let base = rest.baseAddress, let newline = memchr(base, 0x0A, rest.count) else {
                        throw damaged("record \(record - batch.entries.lowerBound + 1) of the batch has no line", in: batch)
                    }
                    end = start + (UnsafeRawPointer(newline) - UnsafeRawPointer(base))
                    if line == record { break }
                    line += 1
                    start = end + 1
                }
                try body(record, UnsafeBufferPointer(rebasing: bytes[start..<end]))
                line += 1
                start = end + 1
            }
        }
    }

    /// The error for a batch whose spilled records cannot be read back.
    static func damaged(_ why: String, in batch: SpillBatch) -> RefineryError {
        RefineryError(.output, "the spilled records in this work unit's file are damaged: \(why); run again with --restart",
                      at: SourceLocation(file: batch.frame.file))
    }

    /// Stops dedup's feed, if it still runs, and closes the files it read.
    func close() {
        dedupFeed?.shutdown()
        files.close()
    }
}
