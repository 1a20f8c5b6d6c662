import Foundation
import RefineryCodecs
import RefineryRecords

/// One record of a dataset split and where it was read.
public struct DatasetRecord: Sendable {
    /// The record's JSON object.
    public let value: JSONValue
    /// Index of its shard among the split's shards, in manifest order (0-based).
    public let shard: Int
    /// The shard's file name, relative to the dataset folder.
    public let file: String
    /// Line of the record in the shard's decompressed text (1-based).
    public let line: Int

    /// Creates a record read at a position.
    public init(value: JSONValue, shard: Int, file: String, line: Int) {
        self.value = value
        self.shard = shard
        self.file = file
        self.line = line
    }

    /// The record's `id`, or `file:line` when it has none.
    public var id: String { value["id"]?.stringValue ?? "\(file):\(line)" }

    /// The shard file and line, for error messages.
    public var location: SourceLocation { SourceLocation(file: file, line: line) }
}

/// One line of a shard, not parsed yet (``DatasetRecords/readLinesInPieces(_:threads:smallestPiece:breaksBatch:start:add:combine:)``):
/// a reader that needs only a few members of most records can skim the bytes and parse only the lines it keeps.
/// `bytes` point into the shard's decompressed text: valid only during the call that hands the line over.
public struct DatasetLine {
    public let bytes: UnsafeBufferPointer<UInt8>
    /// As in ``DatasetRecord``.
    public let shard: Int
    public let file: String
    public let line: Int
    /// Where the shard is, for messages.
    let path: String

    /// The line parsed.
    /// - Throws: ``RefineryError`` (code `integrity`) when it is not a JSON object.
    public func record() throws -> DatasetRecord {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes).value
        } catch {
            throw RefineryError(.integrity, "not a JSON record: \(error); the shard is damaged, rebuild the dataset",
                                at: SourceLocation(file: path, line: line))
        }
        guard case .object = value else {
            throw RefineryError(.integrity, "a record is a JSON \(value.typeName), not an object; the shard is damaged, rebuild the dataset",
                                at: SourceLocation(file: path, line: line))
        }
        return DatasetRecord(value: value, shard: shard, file: file, line: line)
    }
}

/// The records of a dataset version, read split by split from its shards, each shard's size and xxh3-64 checked
/// against the manifest before any of its records is given out.
///
/// A shard is read whole, verified, decompressed and parsed line by line; one shard is in memory at a time
/// (``readInPieces(_:threads:smallestPiece:breaksBatch:start:add:combine:)`` reads several on several threads).
public struct DatasetRecords: Sendable {
    /// The dataset folder.
    public let directory: String
    /// Its manifest.
    public let manifest: Manifest

    /// Opens a dataset folder.
    /// - Parameter directory: a folder holding `manifest.json` and the shards it lists.
    /// - Throws: ``RefineryError`` (code `integrity`) when it holds no readable manifest.
    public init(directory: String) throws {
        self.directory = directory
        manifest = try Manifest.read(directory: directory)
    }

    /// The shards of a split, in manifest order.
    public func shards(split: String) -> [ShardEntry] { manifest.shards.filter { $0.split == split } }

    /// The data splits, in the order the manifest lists their shards (`train`, then `validation`).
    public var splits: [String] {
        var splits: [String] = []
        for entry in manifest.shards where !splits.contains(entry.split) { splits.append(entry.split) }
        return splits
    }

    /// Calls `body` with every record of a split, shard by shard in manifest order, line by line.
    /// - Parameters:
    ///   - split: `train`, `validation`, …; a split the manifest does not list has no records.
    ///   - body: called once per record, in order; an error it throws stops the reading and is rethrown.
    /// - Throws: ``RefineryError`` (code `integrity`) naming the shard when it is missing, its size or checksum
    ///   differs from the manifest's, it does not decompress, a line is not a JSON object, or its record count
    ///   differs from the manifest's.
    public func forEach(split: String = "train", _ body: (DatasetRecord) throws -> Void) throws {
        try forEach(in: shards(split: split), body)
    }

    /// Calls `body` with every line of the given shards (data or reject shards of this dataset), in the order given;
    /// a record's ``DatasetRecord/shard`` is its shard's index in `entries`.
    /// - Throws: as ``forEach(split:_:)``.
    public func forEach(in entries: [ShardEntry], _ body: (DatasetRecord) throws -> Void) throws {
        for (shardIndex, entry) in entries.enumerated() {
            let plain = try verifiedContents(of: entry)
            let records = try forEachRecord(in: plain, lines: 0..<plain.count, firstLine: 1, shard: shardIndex, entry: entry, body)
            try checkCount(records, of: entry)
        }
    }

    /// Reads the given shards in pieces on up to `threads` threads and hands `combine` one tally per piece, in file
    /// order, so that a caller combining them sees the records as one pass would, whatever `threads` is.
    ///
    /// Shards are taken in batches of about `batchBytesPerThread × threads` decompressed bytes (at least one shard; a
    /// batch also ends between two shards for which `breaksBatch` is true). A batch's shards are verified,
    /// decompressed and cut into runs of whole lines (``pieces(of:count:smallestPiece:)``), which are read
    /// concurrently, each into a tally of its own from the factory `start` returned for the batch, taking its records
    /// through `add` in file order. While one batch's pieces are read, the next batch is prepared: the caller's thread
    /// reads and verifies its shards, and the first tasks decompress them, a run of a shard's zstd frames each, so
    /// that decompressing a large shard does not leave the other cores waiting. Two batches are in memory at a time.
    /// `start` is called on the caller's thread before each batch, after the tallies of the batch before were
    /// combined, so a factory can carry what the caller has gathered so far.
    /// - Parameters:
    ///   - entries: data or reject shards of this dataset; a record's ``DatasetRecord/shard`` is its shard's index here.
    ///   - smallestPiece: the fewest bytes worth a piece of their own (a shard under twice that is one piece).
    /// - Throws: as ``forEach(split:_:)``: the error a single pass would meet first.
    public func readInPieces<Tally: Sendable>(_ entries: [ShardEntry], threads: Int,
                                              smallestPiece: Int = DatasetRecords.smallestPiece,
                                              breaksBatch: (ShardEntry, ShardEntry) -> Bool = { _, _ in false },
                                              start: () -> @Sendable () -> Tally,
                                              add: @Sendable (inout Tally, DatasetRecord) -> Void,
                                              combine: (Tally) throws -> Void) throws {
        try readLinesInPieces(entries, threads: threads, smallestPiece: smallestPiece, breaksBatch: breaksBatch, start: start,
                              add: { tally, line in add(&tally, try line.record()) }, combine: combine)
    }

    /// ``readInPieces(_:threads:smallestPiece:breaksBatch:start:add:combine:)`` handing `add` each line unparsed
    /// (blank lines are skipped); `add` parses what it needs (``DatasetLine/record()``) and may throw.
    public func readLinesInPieces<Tally: Sendable>(_ entries: [ShardEntry], threads: Int,
                                                   smallestPiece: Int = DatasetRecords.smallestPiece,
                                                   breaksBatch: (ShardEntry, ShardEntry) -> Bool = { _, _ in false },
                                                   start: () -> @Sendable () -> Tally,
                                                   add: @Sendable (inout Tally, DatasetLine) throws -> Void,
                                                   combine: (Tally) throws -> Void) throws {
        let threads = max(1, threads)
        var batches: [Range<Int>] = []
        var first = 0
        while first < entries.count {
            var end = first + 1
            var bytes = entries[first].uncompressedBytes
            while end < entries.count, !breaksBatch(entries[end - 1], entries[end]),
                  bytes + entries[end].uncompressedBytes <= Self.batchBytesPerThread * threads {
                bytes += entries[end].uncompressedBytes
                end += 1
            }
            batches.append(first..<end)
            first = end
        }
        guard !batches.isEmpty else { return }
        let count = threads * Self.piecesPerThread
        var prepared = prepare(batches[0], of: entries, threads: threads, pieces: count, smallestPiece: smallestPiece)
        for (number, batch) in batches.enumerated() {
            let current = prepared
            let make = start()
            // The next batch's shards are read and verified here, and its frames decompressed by the first tasks; the
            // tasks after them read this batch's pieces.
            let next = number + 1 < batches.count
                ? load(batches[number + 1], of: entries, pieces: count, smallestPiece: smallestPiece) : nil
            let jobs = next?.jobs ?? []
            let work = ConcurrentResults<PieceWork<Tally>>(count: jobs.count + current.pieces.count)
            work.run(threads: threads) { index in
                if let next, index < jobs.count { return .decompressed(try next.decompress(jobs[index])) }
                let piece = current.pieces[index - jobs.count]
                var tally = make()
                let shard = batch.lowerBound + current.plains[piece.plain].shard
                let records = try self.forEachLine(in: current.plains[piece.plain].bytes, lines: piece.lines, firstLine: piece.firstLine,
                                                   shard: shard, entry: entries[shard]) { try add(&tally, $0) }
                return .read(tally, records: records)
            }
            let done = work.all()
            if let next {
                prepared = next.assemble(done[0..<jobs.count].map { result in
                    result.flatMap { work in
                        guard case .decompressed(let bytes) = work else { preconditionFailure("a decompression task read a piece") }
                        return .success(bytes)
                    }
                }, pieces: count, smallestPiece: smallestPiece)
            }
            var index = jobs.count
            for position in 0..<current.shards {
                var records = 0
                while index < done.count, current.plains[current.pieces[index - jobs.count].plain].shard == position {
                    if case .read(let tally, let count) = try done[index].get() {
                        records += count
                        try combine(tally)
                    }
                    index += 1
                }
                try checkCount(records, of: entries[batch.lowerBound + position])
            }
            if let failure = current.failure { throw failure }
        }
    }

    /// A batch of shards read, verified, decompressed and cut into pieces: the shards up to the first that failed its
    /// checks (a single pass reads them, then stops there), and that failure. A shard's text is held in one or more
    /// runs of whole lines (``LoadedBatch``), each cut into pieces.
    private struct PreparedBatch: Sendable {
        var plains: [(shard: Int, bytes: [UInt8])] = []
        var pieces: [(plain: Int, lines: Range<Int>, firstLine: Int)] = []
        /// The shards that were read whole.
        var shards = 0
        var failure: (any Error)?
    }

    /// What a task of ``readInPieces(_:threads:smallestPiece:breaksBatch:start:add:combine:)`` made.
    private enum PieceWork<Tally: Sendable>: Sendable {
        case read(Tally, records: Int)
        case decompressed([UInt8])
    }

    /// A batch's shards read whole and verified, with their decompression shared out as jobs: runs of a shard's zstd
    /// frames (one per batch the run wrote) of about a piece's size each, decompressed apart on several threads, or
    /// the whole shard when its frames do not record their sizes.
    private struct LoadedBatch: Sendable {
        struct Job: Sendable {
            var shard: Int
            var compressed: Range<Int>
            /// The frames' decompressed size (nil: the whole shard, streamed).
            var size: Int?
        }

        var entries: [ShardEntry] = []
        /// Each shard's path (``path(of:)``), for messages.
        var paths: [String] = []
        var compressed: [[UInt8]] = []
        var jobs: [Job] = []
        /// The shard that failed its checks (the batch stops before it).
        var failure: (any Error)?

        func decompress(_ job: Job) throws -> [UInt8] {
            let entry = entries[job.shard]
            return try DatasetRecords.decompressing(entry, at: paths[job.shard]) {
                guard let size = job.size else {
                    return try ZstdDecompressor.decompressAll(compressed[job.shard], expectedSize: entry.uncompressedBytes)
                }
                return try compressed[job.shard].withUnsafeBytes { try ZstdFrames.decompress(UnsafeRawBufferPointer(rebasing: $0[job.compressed]), size: size) }
            }
        }

        /// The batch prepared from its jobs' results (in job order): each shard's runs of lines, kept apart when every
        /// run but the last ends a line and joined otherwise, cut into about `count` pieces per shard.
        func assemble(_ results: [Result<[UInt8], any Error>], pieces count: Int, smallestPiece: Int) -> PreparedBatch {
            var prepared = PreparedBatch()
            var next = 0
            for shard in compressed.indices {
                var runs: [[UInt8]] = []
                while next < jobs.count, jobs[next].shard == shard {
                    switch results[next] {
                    case .success(let bytes): if !bytes.isEmpty { runs.append(bytes) }
                    case .failure(let error): prepared.failure = prepared.failure ?? error
                    }
                    next += 1
                }
                if prepared.failure != nil { return prepared }
                if runs.dropLast().contains(where: { $0.last != 0x0A }) { runs = [Array(runs.joined())] }
                let total = max(1, runs.reduce(0) { $0 + $1.count })
                var line = 1
                for run in runs {
                    let share = max(1, (count * run.count + total - 1) / total)
                    let (cut, lines) = DatasetRecords.pieces(of: run, count: share, smallestPiece: smallestPiece)
                    prepared.pieces += cut.map { (plain: prepared.plains.count, lines: $0.lines, firstLine: $0.firstLine + line - 1) }
                    prepared.plains.append((shard: shard, bytes: run))
                    line += lines
                }
                prepared.shards += 1
            }
            prepared.failure = failure
            return prepared
        }
    }

    /// Reads and verifies a batch's shards, up to the first that fails, and shares out their decompression.
    private func load(_ batch: Range<Int>, of entries: [ShardEntry], pieces count: Int, smallestPiece: Int) -> LoadedBatch {
        var loaded = LoadedBatch()
        for index in batch {
            let entry = entries[index]
            let bytes: [UInt8]
            do { bytes = try verifiedBytes(of: entry) } catch { loaded.failure = error; break }
            let shard = loaded.compressed.count
            loaded.entries.append(entry)
            loaded.paths.append(path(of: entry))
            loaded.compressed.append(bytes)
            guard let frames = bytes.withUnsafeBytes({ ZstdFrames.list($0) }) else {
                loaded.jobs.append(.init(shard: shard, compressed: bytes.indices, size: nil))
                continue
            }
            // Runs of frames of about a piece each, and of at most ``largestRun``.
            let runBytes = min(Self.largestRun, max(smallestPiece, entry.uncompressedBytes / max(1, count)))
            var run: (compressed: Range<Int>, size: Int)?
            for frame in frames {
                if let current = run, current.size < runBytes {
                    run = (current.compressed.lowerBound..<frame.compressed.upperBound, current.size + frame.size)
                } else {
                    if let run { loaded.jobs.append(.init(shard: shard, compressed: run.compressed, size: run.size)) }
                    run = (frame.compressed, frame.size)
                }
            }
            if let run { loaded.jobs.append(.init(shard: shard, compressed: run.compressed, size: run.size)) }
        }
        return loaded
    }

    /// A batch loaded, decompressed on up to `threads` threads and cut into pieces (the first batch, which nothing
    /// overlaps).
    private func prepare(_ batch: Range<Int>, of entries: [ShardEntry], threads: Int, pieces count: Int, smallestPiece: Int) -> PreparedBatch {
        let loaded = load(batch, of: entries, pieces: count, smallestPiece: smallestPiece)
        let results = ConcurrentResults<[UInt8]>(count: loaded.jobs.count)
        results.run(threads: threads) { try loaded.decompress(loaded.jobs[$0]) }
        return loaded.assemble(results.all(), pieces: count, smallestPiece: smallestPiece)
    }

    /// Decompressed bytes a batch of ``readInPieces(_:threads:smallestPiece:breaksBatch:start:add:combine:)`` holds per
    /// thread: 64 MiB, a default shard.
    static let batchBytesPerThread = 64 << 20
    /// Pieces a shard is cut into per reading thread, so that a thread that finishes early takes another.
    static let piecesPerThread = 4
    /// The most decompressed bytes a job of ``LoadedBatch`` makes (short of a frame larger than this): 4 MiB. jemalloc,
    /// the binary's allocator, hands allocations of 8 MiB and more back to the system when they are freed, so runs of
    /// an eighth of a 68 MB shard were faulted in afresh for every shard: `refinery report` on the 1 GB benchmark
    /// dataset spent 1.06 s in the kernel instead of 0.2-0.4 s.
    static let largestRun = 4 << 20
    /// The fewest bytes worth a piece of their own, by default: 1 MiB, about 10 ms of reading.
    public static let smallestPiece = 1 << 20

    /// Cuts `plain` into at most `count` runs of whole lines, each with its first line's number (1-based): cuts at
    /// the first line feed after each `plain.count × k / count`, and `count` at most `plain.count / smallestPiece`.
    /// Also returns how many line feeds `plain` holds.
    static func pieces(of plain: [UInt8], count: Int, smallestPiece: Int) -> (pieces: [(lines: Range<Int>, firstLine: Int)], lineFeeds: Int) {
        let count = max(1, min(count, plain.count / max(1, smallestPiece)))
        var pieces: [(lines: Range<Int>, firstLine: Int)] = []
        var line = 1
        plain.withUnsafeBufferPointer { buffer in
            var start = 0
            for index in 1...count {
                var end = index == count ? buffer.count : max(start, buffer.count * index / count)
                if end < buffer.count { end = (newline(in: buffer, from: end, to: buffer.count) ?? buffer.count - 1) + 1 }
                guard end > start else { continue }
                pieces.append((start..<end, line))
                var next = start
                while let found = newline(in: buffer, from: next, to: end) {
                    line += 1
                    next = found + 1
                }
                start = end
            }
        }
        if pieces.isEmpty { pieces.append((0..<plain.count, 1)) }
        return (pieces, line - 1)
    }

    /// The first line feed in `buffer[start..<end]` (found by `memchr`).
    static func newline(in buffer: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> Int? {
        guard start < end, let base = buffer.baseAddress else { return nil }
        return memchr(base + start, 0x0A, end - start).map { UnsafePointer($0.assumingMemoryBound(to: UInt8.self)) - base }
    }

    /// Calls `body` with every record in `lines` of a shard's decompressed text, whose first line is `firstLine`;
    /// returns how many records it held (blank lines are not records).
    private func forEachRecord(in plain: [UInt8], lines: Range<Int>, firstLine: Int, shard shardIndex: Int, entry: ShardEntry,
                               _ body: (DatasetRecord) throws -> Void) throws -> Int {
        try forEachLine(in: plain, lines: lines, firstLine: firstLine, shard: shardIndex, entry: entry) { try body($0.record()) }
    }

    /// ``forEachRecord(in:lines:firstLine:shard:entry:_:)`` with the lines unparsed.
    private func forEachLine(in plain: [UInt8], lines: Range<Int>, firstLine: Int, shard shardIndex: Int, entry: ShardEntry,
                             _ body: (DatasetLine) throws -> Void) throws -> Int {
        let path = path(of: entry)
        return try plain.withUnsafeBufferPointer { buffer in
            var start = lines.lowerBound
            var line = firstLine - 1
            var records = 0
            while start < lines.upperBound {
                let end = Self.newline(in: buffer, from: start, to: lines.upperBound) ?? lines.upperBound
                line += 1
                defer { start = end + 1 }
                guard end > start else { continue } // a blank line is not a record
                records += 1
                try body(DatasetLine(bytes: UnsafeBufferPointer(rebasing: buffer[start..<end]), shard: shardIndex, file: entry.file,
                                     line: line, path: path))
            }
            return records
        }
    }

    private func checkCount(_ records: Int, of entry: ShardEntry) throws {
        guard records == entry.records else {
            throw RefineryError(.integrity, "holds \(records) records, the manifest says \(entry.records); rebuild the dataset",
                                at: SourceLocation(file: path(of: entry)))
        }
    }

    private func path(of entry: ShardEntry) -> String { (directory as NSString).appendingPathComponent(entry.file) }

    /// A shard's decompressed bytes, after its size and checksum are checked against the manifest.
    /// - Throws: ``RefineryError`` (code `integrity`) naming the shard.
    public func verifiedContents(of entry: ShardEntry) throws -> [UInt8] {
        let bytes = try verifiedBytes(of: entry)
        return try Self.decompressing(entry, at: path(of: entry)) {
            try ZstdDecompressor.decompressAll(bytes, expectedSize: entry.uncompressedBytes)
        }
    }

    /// What `body` decompressed from a shard; its failure an `integrity` error naming the shard.
    private static func decompressing(_ entry: ShardEntry, at path: String, _ body: () throws -> [UInt8]) throws -> [UInt8] {
        do {
            return try body()
        } catch {
            throw RefineryError(.integrity, "shard \(entry.file) does not decompress", at: SourceLocation(file: path), cause: error)
        }
    }

    /// A shard's compressed bytes, after its size and checksum are checked against the manifest.
    /// - Throws: ``RefineryError`` (code `integrity`) naming the shard.
    private func verifiedBytes(of entry: ShardEntry) throws -> [UInt8] {
        let path = path(of: entry)
        guard !entry.file.hasPrefix("/"), !entry.file.split(separator: "/").contains("..") else {
            throw RefineryError(.integrity, "the manifest names a shard outside the dataset folder", at: SourceLocation(file: path))
        }
        guard let bytes = POSIXFileSystem.contents(atPath: path) else {
            throw RefineryError(.integrity, "shard \(entry.file) is missing or unreadable", at: SourceLocation(file: path))
        }
        guard bytes.count == entry.bytes else {
            throw RefineryError(.integrity, "shard \(entry.file) has \(bytes.count) bytes, the manifest says \(entry.bytes); "
                                + "run `refinery inspect` on the dataset or rebuild it", at: SourceLocation(file: path))
        }
        let checksum = XXH3.hex(XXH3.hash(bytes))
        guard checksum == entry.xxh3 else {
            throw RefineryError(.integrity, "shard \(entry.file) has checksum \(checksum), the manifest says \(entry.xxh3); "
                                + "run `refinery inspect` on the dataset or rebuild it", at: SourceLocation(file: path))
        }
        return bytes
    }
}
