import Foundation
import RefineryCodecs
import RefineryRecords
import RefineryShards
import RefineryStages

/// What the global stages look at for every spilled record at once, so it stays in memory: 32 bytes a record.
/// The rest of a record's entry (its id, source location, dedup keys) is on disk in ``SpillEntries`` and streamed.
///
/// 32 bytes: the two hashes, then three 32-bit numbers (a record's content is under 4 GiB: ``SpillEntries/append(_:stored:)``
/// refuses a larger one).
struct SpillFacts: Sendable {
    /// XXH3-64 of its id: which split it goes to.
    var splitHash: UInt64
    /// The balance stage's rank of its id (0 without a balance stage).
    var rank: UInt64
    /// Its category, as an index into ``SpillEntries/categories``.
    var category: Int32
    private var bytes: UInt32
    private var chars: UInt32

    init(splitHash: UInt64, rank: UInt64, category: Int32, contentBytes: UInt32, contentChars: UInt32) {
        self.splitHash = splitHash
        self.rank = rank
        self.category = category
        bytes = contentBytes
        chars = contentChars
    }

    /// UTF-8 bytes of its content, for the stage counters and the balance stage's token estimate.
    var contentBytes: Int { Int(bytes) }
    /// Unicode scalars of its content, for the category mix.
    var contentChars: Int { Int(chars) }
}

/// The spilled records' entries, in canonical order: left where the units' files hold them, one chunk (a batch's
/// piece) each, with only their ``SpillFacts`` kept in memory. Dedup's resolver reads them back chunk by chunk
/// (``DedupFeed``), so does the dedup index segment (``forEach(_:_:)``), the drop messages look up the few ids they
/// name (``ids(of:threads:)``), and the shard writer reads one chunk at a time (``entries(ofChunk:)``), so a run's memory no longer grows with its records' ids and keys; only
/// the facts (32 bytes a record), the fates (4) and the dedup index do.
final class SpillEntries {
    private let files: StoredFiles
    private let balance: BalanceStage?
    private var chunks: [(stored: StoredBytes, records: Range<Int>)] = []
    private(set) var facts: [SpillFacts] = []
    /// The categories the facts name, in order of first appearance.
    private(set) var categories: [String] = []
    private var categoryIndex: [String: Int32] = [:]
    /// Of every record's dedup keys, for matching the band files of a dedup phase (``BandFiles/Digest``).
    private(set) var digest = BandFiles.Digest()
    /// Bytes of the encoded entries.
    private(set) var bytes = 0

    init(files: StoredFiles, balance: BalanceStage?) {
        self.files = files
        self.balance = balance
    }

    var count: Int { facts.count }

    /// The category of record `index`.
    func category(_ index: Int) -> String { categories[Int(facts[index].category)] }

    /// Appends one chunk of entries, encoded (``ByteWriter/spillEntries(_:)``) at `stored`. Returns the chunk's number.
    /// - Throws: ``RefineryError`` (code `input`) for a record with 4 GiB of content or more, which the facts cannot
    ///   count (the readers' line and document limits are far below it unless a spec raises them).
    @discardableResult
    func append(_ entries: [SpillEntry], stored: StoredBytes) throws -> Int {
        let start = facts.count
        // Each entry in place (see ``ByteWriter/spillEntries(_:)``), and its category's number looked up only when it
        // is not the previous entry's (a batch's records nearly always share one).
        var last: (category: String, number: Int32)?
        try entries.withUnsafeBufferPointer { entries in
            for index in entries.indices {
                guard let contentBytes = UInt32(exactly: entries[index].contentBytes),
                      let contentChars = UInt32(exactly: entries[index].contentChars) else {
                    throw RefineryError(.input, "record \(entries[index].id) has \(entries[index].contentBytes) bytes of content; records of 4 GiB "
                                        + "or more cannot go through the global stages", at: entries[index].location)
                }
                let category: Int32
                if let last, last.category == entries[index].category {
                    category = last.number
                } else if let known = categoryIndex[entries[index].category] {
                    category = known
                } else {
                    category = Int32(categories.count)
                    categoryIndex[entries[index].category] = category
                    categories.append(entries[index].category)
                }
                last = (entries[index].category, category)
                facts.append(SpillFacts(splitHash: XXH3.hash(entries[index].id), rank: balance?.rank(entries[index].id) ?? 0, category: category,
                                        contentBytes: contentBytes, contentChars: contentChars))
                digest.add(entries[index].dedup)
            }
        }
        bytes += stored.count
        chunks.append((stored, start..<facts.count))
        return chunks.count - 1
    }

    /// The encoded entries of one chunk (``ByteReader/spillEntries()`` reads them).
    func encodedEntries(ofChunk chunk: Int) throws -> [UInt8] {
        try files.read(chunks[chunk].stored, role: "spilled records' entries")
    }

    /// Where a chunk's encoded entries are.
    func stored(ofChunk chunk: Int) -> StoredBytes { chunks[chunk].stored }

    /// The file that holds a chunk, for messages.
    func file(ofChunk chunk: Int) -> String { chunks[chunk].stored.file }

    /// The entries of one chunk, as appended, with the `parts` the caller needs.
    func entries(ofChunk chunk: Int, parts: SpillEntryParts = .all) throws -> [SpillEntry] {
        try Self.read(chunks[chunk].stored, count: chunks[chunk].records.count, parts: parts, from: files)
    }

    /// The `count` entries encoded at `stored`, read through `files` (a thread's own), with the `parts` it needs.
    static func read(_ stored: StoredBytes, count: Int, parts: SpillEntryParts, from files: StoredFiles) throws -> [SpillEntry] {
        try decode(try files.read(stored, role: "spilled records' entries"), count: count, file: stored.file, parts: parts)
    }

    /// Entries encoded by ``ByteWriter/spillEntries(_:)``, `count` of them, from `file` (for the message), with the
    /// `parts` the caller needs.
    static func decode(_ bytes: [UInt8], count: Int, file: String, parts: SpillEntryParts = .all) throws -> [SpillEntry] {
        var reader = ByteReader(bytes)
        let entries: [SpillEntry]
        do {
            entries = try reader.spillEntries(parts)
        } catch {
            throw RefineryError(.output, "the spilled entries in \(file) are damaged: \(error); run again with --restart")
        }
        guard entries.count == count else {
            throw RefineryError(.output, "\(file) holds \(entries.count) spilled entries where \(count) were written")
        }
        return entries
    }

    /// The dedup keys of the `count` entries encoded at `stored`, read through `files`, handed to `body` in order as
    /// views (``ByteReader/forEachSpilledKeys(_:)``) rather than decoded into entries.
    static func forEachKeys(_ stored: StoredBytes, count: Int, from files: StoredFiles, _ body: (SpilledKeys) throws -> Void) throws {
        let bytes = try files.read(stored, role: "spilled records' entries")
        var reader = ByteReader(bytes)
        let read: Int
        do {
            read = try reader.forEachSpilledKeys(body)
        } catch let error as UnitFileError {
            throw RefineryError(.output, "the spilled entries in \(stored.file) are damaged: \(error); run again with --restart")
        }
        guard read == count else {
            throw RefineryError(.output, "\(stored.file) holds \(read) spilled entries where \(count) were written")
        }
    }

    /// Every entry's dedup keys in order, with its index (see ``forEachKeys(_:count:from:_:)``), one chunk in memory at
    /// a time, read through `files` (another thread's own; by default the spill's).
    func forEachKeys(from files: StoredFiles? = nil, _ body: (Int, SpilledKeys) throws -> Void) throws {
        for (stored, records) in chunks {
            var index = records.lowerBound
            try Self.forEachKeys(stored, count: records.count, from: files ?? self.files) { keys in
                try body(index, keys)
                index += 1
            }
        }
    }

    /// Every entry in order, with its index and the `parts` the caller needs, one chunk in memory at a time, read
    /// through `files` (another thread's own; by default the spill's).
    func forEach(_ parts: SpillEntryParts = .all, from files: StoredFiles? = nil, _ body: (Int, SpillEntry) throws -> Void) throws {
        for (stored, records) in chunks {
            let entries = try Self.read(stored, count: records.count, parts: parts, from: files ?? self.files)
            for (index, entry) in zip(records, entries) { try body(index, entry) }
        }
    }

    /// Per chunk that holds some of `indexes` (ascending), its number and the indexes in it, in order; indexes past
    /// the last record are left out.
    func chunks(holding indexes: [Int]) -> [(chunk: Int, indexes: [Int])] {
        var wanted: [(chunk: Int, indexes: [Int])] = []
        var rest = indexes[...]
        for (chunk, (_, records)) in chunks.enumerated() {
            guard let next = rest.first else { break }
            guard records.contains(next) else { continue }
            var inChunk: [Int] = []
            while let index = rest.first, records.contains(index) {
                inChunk.append(index)
                rest.removeFirst()
            }
            wanted.append((chunk, inChunk))
        }
        return wanted
    }

    /// The ids of the records at `indexes`, reading only the chunks that hold them, on up to `threads` threads (each
    /// chunk through files of its own). (Duplicates are everywhere, so this reads nearly every chunk: 0.3 s of one core
    /// at the end of a 1 GB run, with the other idle.)
    func ids(of indexes: Set<Int>, threads: Int = 1) throws -> [Int: String] {
        let wanted = chunks(holding: indexes.sorted())
        let chunks = self.chunks
        let results = ConcurrentResults<[String]>(count: wanted.count)
        results.run(threads: threads) { [wanted] job in
            let (chunk, indexes) = wanted[job]
            let files = StoredFiles()
            defer { files.close() }
            let entries = try Self.read(chunks[chunk].stored, count: chunks[chunk].records.count, parts: [], from: files)
            return indexes.map { entries[$0 - chunks[chunk].records.lowerBound].id }
        }
        var ids: [Int: String] = [:]
        ids.reserveCapacity(indexes.count)
        for ((_, indexes), result) in zip(wanted, results.all()) {
            for (index, id) in zip(indexes, try result.get()) { ids[index] = id }
        }
        return ids
    }
}
