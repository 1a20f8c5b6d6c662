import Foundation
import RefineryCodecs
@testable import RefineryPipeline
import RefineryRecords
import RefineryReport
import RefineryStages
import Testing

/// The spill's entry store: every spilled record's id, location and dedup keys left on disk where the unit files hold
/// them, only its facts in memory.
@Suite struct SpillEntriesTests {
    static func entry(_ n: Int, category: String, dedup: Bool = true) -> SpillEntry {
        SpillEntry(id: "source/path/file-\(n).jsonl:\(n + 1)", category: category,
                   location: SourceLocation(file: "/data/file-\(n).jsonl", line: n + 1), lineBytes: 100 + n, contentBytes: 50 + n,
                   contentChars: 40 + n, quality: n % 3 == 0 ? nil : Double(n) / 100,
                   dedup: dedup ? DedupKeys(exact: UInt64(n) &* 0x9e37_79b9, bands: [UInt64(n), UInt64(n) << 8], sketch: [UInt8(n % 256), 7]) : nil)
    }

    static func same(_ a: SpillEntry, _ b: SpillEntry) -> Bool {
        a.id == b.id && a.category == b.category && a.location == b.location && a.lineBytes == b.lineBytes
            && a.contentBytes == b.contentBytes && a.contentChars == b.contentChars && a.quality == b.quality
            && a.dedup?.exact == b.dedup?.exact && a.dedup?.bands == b.dedup?.bands && a.dedup?.sketch == b.dedup?.sketch
    }

    /// Writes each chunk's encoding into a file of its own, after some unrelated bytes, as a unit file holds them.
    static func stored(_ chunks: [[SpillEntry]], in folder: String) throws -> [StoredBytes] {
        try chunks.enumerated().map { number, chunk in
            var writer = ByteWriter()
            writer.spillEntries(chunk)
            let path = folder + "/unit-\(number).unit", prefix = [UInt8](repeating: 0xAB, count: 13 + number)
            try Data(prefix + writer.bytes + [0xCD]).write(to: URL(fileURLWithPath: path))
            return StoredBytes(file: path, offset: prefix.count, count: writer.bytes.count)
        }
    }

    @Test("chunks read back from the files that hold them, the facts hold each record's hashes and category, ids come from the chunks that hold them")
    func roundTrip() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        var balance = BalanceStage()
        balance.seed = 42
        let files = StoredFiles()
        let store = SpillEntries(files: files, balance: balance)
        let chunks = [(0..<3).map { Self.entry($0, category: "a") },
                      [],
                      (3..<7).map { Self.entry($0, category: $0 % 2 == 0 ? "b" : "a", dedup: $0 != 4) }]
        for (chunk, stored) in zip(chunks, try Self.stored(chunks, in: folder.path)) { try store.append(chunk, stored: stored) }
        #expect(store.count == 7)
        #expect(store.categories == ["a", "b"])
        for (number, chunk) in chunks.enumerated() {
            let back = try store.entries(ofChunk: number)
            #expect(back.count == chunk.count)
            #expect(zip(back, chunk).allSatisfy(Self.same))
        }
        var seen: [Int] = []
        try store.forEach { index, entry in
            seen.append(index)
            #expect(Self.same(entry, Self.entry(index, category: store.category(index), dedup: index != 4)))
        }
        #expect(seen == Array(0..<7))
        // A reader that needs only some parts gets those, and the rest empty.
        for (index, entry) in try store.entries(ofChunk: 2, parts: .location).enumerated() {
            let full = chunks[2][index]
            #expect(entry.id == full.id && entry.category == full.category && entry.location == full.location && entry.dedup == nil)
            #expect(entry.lineBytes == full.lineBytes && entry.quality == full.quality)
        }
        var keyed = 0
        try store.forEach(.dedupKeys) { index, entry in
            let full = chunks.flatMap { $0 }[index]
            #expect(entry.id == full.id && entry.category.isEmpty && entry.location.file.isEmpty)
            #expect(entry.dedup?.bands == full.dedup?.bands && entry.dedup?.sketch == full.dedup?.sketch && entry.contentBytes == full.contentBytes)
            keyed += 1
        }
        #expect(keyed == 7)
        let all = chunks.flatMap { $0 }
        for (index, entry) in all.enumerated() {
            let facts = store.facts[index]
            #expect(store.category(index) == entry.category)
            #expect(facts.splitHash == XXH3.hash(entry.id))
            #expect(facts.rank == balance.rank(entry.id))
            #expect(facts.contentBytes == entry.contentBytes && facts.contentChars == entry.contentChars)
        }
        #expect(try store.ids(of: [6, 0, 4]) == [0: all[0].id, 4: all[4].id, 6: all[6].id])
        #expect(try store.ids(of: []).isEmpty)
        var digest = BandFiles.Digest()
        for entry in all { digest.add(entry.dedup) }
        #expect(store.digest.value == digest.value && store.digest.records == 7)
    }

    @Test("the workers' encoding of a piece's entries is what the unit file would write itself; its parts are found where they were written")
    func encodedOnce() throws {
        let entries = (0..<5).map { Self.entry($0, category: "c") }
        var writer = ByteWriter()
        writer.spillEntries(entries)
        var piece = SpillPiece(frame: [1, 2, 3], entries: entries)
        var plain = ByteWriter()
        plain.spillPiece(piece)
        piece.encodedEntries = writer.bytes
        var reused = ByteWriter()
        reused.int(7)   // something before the piece, as in a unit file
        let before = reused.bytes.count
        let parts = reused.spillPiece(piece)
        #expect(plain.bytes == Array(reused.bytes.dropFirst(before)))
        #expect(Array(reused.bytes[parts.frame]) == [1, 2, 3] && Array(reused.bytes[parts.entries]) == writer.bytes)
        var reader = ByteReader(reused.bytes, offset: before)
        let back = try reader.spillPiece(file: "unit")
        // Read from a file, the piece says where its parts are: where the writer put them.
        #expect(back.stored == StoredSpill(frame: StoredBytes(file: "unit", offset: parts.frame.lowerBound, count: 3),
                                           entries: StoredBytes(file: "unit", offset: parts.entries.lowerBound, count: writer.bytes.count)))
        #expect(back.encodedEntries == writer.bytes)
        #expect(back.frame == [1, 2, 3])
        #expect(zip(back.entries, entries).allSatisfy(Self.same))
    }

    @Test("integers of any size and sign read back, a count below 64 in one byte; a varint cut off or too long is damage")
    func varints() throws {
        let values = [0, 1, -1, 63, -64, 64, 8_191, 8_192, 1 << 31, -(1 << 40), Int.max, Int.min]
        var writer = ByteWriter()
        for value in values { writer.int(value) }
        var reader = ByteReader(writer.bytes)
        #expect(try values.map { _ in try reader.int() } == values && reader.isAtEnd)
        var small = ByteWriter()
        small.int(63)
        small.int(-64)
        #expect(small.bytes.count == 2)
        var cut = ByteReader(Array(writer.bytes.dropLast()), offset: writer.bytes.count - 10)   // Int.min's ten bytes, the last one cut off
        #expect(throws: UnitFileError.self) { _ = try cut.int() }
        var endless = ByteReader([UInt8](repeating: 0xFF, count: 12))
        #expect(throws: UnitFileError.self) { _ = try endless.int() }
    }

    @Test("strings the entries of a batch share (category, file, source, language) are written once and read back in every entry")
    func sharedStrings() throws {
        let entries = (0..<40).map { n in
            var entry = Self.entry(n, category: n < 25 ? "film" : "chat")
            entry.location = SourceLocation(file: "/corpus/very/long/folder/\(n / 10).jsonl", line: n % 7 == 0 ? nil : n)
            entry.report = RecordFacts(category: entry.category, source: n % 5 == 0 ? nil : "subtitles", lang: n % 4 == 0 ? nil : ["en", "fr", "ja"][n % 3],
                                       hasContent: n % 9 != 0, chars: entry.contentChars, words: n * 3, turns: n % 2 == 0 ? nil : n,
                                       quality: entry.quality, toxicity: n % 3 == 0 ? nil : 0.25, langScore: 0.5, reward: n % 6 == 0 ? -1.5 : nil)
            return entry
        }
        var writer = ByteWriter()
        writer.spillEntries(entries)
        let text = String(decoding: writer.bytes, as: UTF8.self)
        #expect(text.components(separatedBy: "/corpus/very/long/folder/").count - 1 == 4)
        #expect(text.components(separatedBy: "subtitles").count - 1 == 1)
        var reader = ByteReader(writer.bytes)
        let back = try reader.spillEntries()
        #expect(reader.isAtEnd && back.count == entries.count)
        for (entry, read) in zip(entries, back) {
            #expect(Self.same(entry, read))
            #expect(read.report == entry.report)
        }
        // Each reader's parts alone: what is skipped is passed over exactly, so what follows reads back right.
        for parts: SpillEntryParts in [.dedupKeys, .location, .report, [.location, .report]] {
            var partial = ByteReader(writer.bytes)
            let some = try partial.spillEntries(parts)
            #expect(partial.isAtEnd && some.count == entries.count)
            for (entry, read) in zip(entries, some) {
                #expect(read.id == entry.id && read.lineBytes == entry.lineBytes && read.contentChars == entry.contentChars
                    && read.quality == entry.quality)
                #expect(read.category == (parts.contains(.location) ? entry.category : ""))
                #expect(read.location == (parts.contains(.location) ? entry.location : SourceLocation(file: "")))
                #expect((read.dedup?.bands, read.dedup?.sketch) == (parts.contains(.dedupKeys) ? (entry.dedup?.bands, entry.dedup?.sketch) : (nil, nil)))
                #expect(parts.contains(.report) ? read.report?.source == entry.report?.source && read.report?.lang == entry.report?.lang
                    && read.report?.words == entry.report?.words && read.report?.reward == entry.report?.reward : read.report == nil)
            }
        }
        // A string number past the table is damage, not a crash.
        var damaged = writer.bytes
        let id = Array(entries[0].id.utf8)
        let start = try #require((0...(damaged.count - id.count)).first { (offset: Int) -> Bool in
            damaged[offset..<(offset + id.count)].elementsEqual(id)
        })
        damaged[start + id.count] = 0x7E   // the first entry's category: string 63 of a table of 9
        var broken = ByteReader(damaged)
        #expect(throws: UnitFileError.self) { _ = try broken.spillEntries() }
    }

    @Test("the keys read in place (dedup feed, index segment) are those the entries decode to, with or without keys, report or long band lists")
    func keysInPlace() throws {
        let entries = (0..<30).map { n in
            var entry = Self.entry(n, category: n % 2 == 0 ? "film" : "chat", dedup: n % 4 != 1)
            // More bands than the reader's first buffer; band hashes keep 32 bits (``DedupKeys/bands``).
            if n % 5 == 0 { entry.dedup?.bands = (0..<(20 + n)).map { UInt64(UInt32(truncatingIfNeeded: UInt64($0) &* 0x1234_5678_9ABC)) } }
            if n % 3 == 0 {
                entry.report = RecordFacts(category: entry.category, source: "s", lang: "en", hasContent: true, chars: entry.contentChars,
                                           words: n, turns: nil, quality: 0.5, toxicity: nil, langScore: 0.9, reward: nil)
            }
            return entry
        }
        var writer = ByteWriter()
        writer.spillEntries(entries)
        var reader = ByteReader(writer.bytes)
        var seen: [(id: String, contentBytes: Int, quality: Double?, keys: DedupKeys?)] = []
        let count = try reader.forEachSpilledKeys { seen.append(($0.id, $0.contentBytes, $0.quality, $0.dedupKeys)) }
        #expect(count == entries.count && seen.count == entries.count && reader.isAtEnd)
        for (entry, read) in zip(entries, seen) {
            #expect(read.id == entry.id && read.contentBytes == entry.contentBytes && read.quality == entry.quality)
            #expect(read.keys?.exact == entry.dedup?.exact && read.keys?.bands == entry.dedup?.bands && read.keys?.sketch == entry.dedup?.sketch)
        }
        // A band hash is kept to its low 32 bits, by either reader.
        var wide = ByteWriter()
        wide.spillEntries([SpillEntry(id: "w", category: "c", location: SourceLocation(file: "f"), lineBytes: 1, contentBytes: 1, contentChars: 1,
                                      quality: nil, dedup: DedupKeys(exact: 1, bands: [0xABCD_0000_1234_5678, 7], sketch: [1]))])
        var wideReader = ByteReader(wide.bytes)
        var wideKeys: DedupKeys?
        _ = try wideReader.forEachSpilledKeys { wideKeys = $0.dedupKeys }
        var wideEntries = ByteReader(wide.bytes)
        let decoded = try wideEntries.spillEntries()
        #expect(wideKeys?.bands == [0x1234_5678, 7] && decoded.first?.dedup?.bands == [0x1234_5678, 7])
        // Cut anywhere, the entries are damage, not a crash.
        for cut in stride(from: 1, to: writer.bytes.count, by: 97) {
            var short = ByteReader(Array(writer.bytes.prefix(cut)))
            #expect(throws: UnitFileError.self) { _ = try short.forEachSpilledKeys { _ in } }
        }
    }

    @Test("the facts take 32 bytes a record and hold each record's sizes; content of 4 GiB or more is refused, naming the record")
    func facts() throws {
        #expect(MemoryLayout<SpillFacts>.stride == 32)
        let store = SpillEntries(files: StoredFiles(), balance: nil)
        let stored = StoredBytes(file: "/none", offset: 0, count: 0)
        var large = Self.entry(1, category: "c")
        large.contentBytes = Int(UInt32.max)
        large.contentChars = Int(UInt32.max) - 1
        try store.append([Self.entry(0, category: "c"), large], stored: stored)
        #expect(store.facts.map(\.contentBytes) == [50, Int(UInt32.max)])
        #expect(store.facts.map(\.contentChars) == [40, Int(UInt32.max) - 1])
        var huge = Self.entry(2, category: "c")
        huge.contentBytes = Int(UInt32.max) + 1
        let error = try #require(throws: RefineryError.self) { try store.append([huge], stored: stored) }
        #expect(error.code == .input && "\(error)".contains(huge.id) && "\(error)".contains("4 GiB"))
    }

    @Test("packed fates read back as set: keeps with copies and split, drops; a drop set in a row is one object")
    func fates() throws {
        var fates = RecordFates(repeating: .keep(copies: 1, validation: false), count: 6)
        let balanced = RecordFate.drop(stage: "balance", reason: "over_target", detail: "category c", keptID: nil)
        fates[0] = balanced
        fates[2] = balanced
        fates[1] = .keep(copies: 100, validation: true)
        fates[3] = .drop(stage: "dedup", reason: "exact_duplicate", detail: "same as a", keptID: "a")
        fates[5] = .keep(copies: 3, validation: false)
        let expected: [RecordFate] = [balanced, .keep(copies: 100, validation: true), balanced,
                                      .drop(stage: "dedup", reason: "exact_duplicate", detail: "same as a", keptID: "a"),
                                      .keep(copies: 1, validation: false), .keep(copies: 3, validation: false)]
        #expect(Array(fates) == expected)
        // The balance drop is one object, set twice.
        guard case .drop(let first) = fates[0], case .drop(let second) = fates[2] else { Issue.record("not drops"); return }
        #expect(first === second)
        #expect(RecordFates().isEmpty)
    }

    @Test("a cut-off, damaged or missing unit file is an output error that names it, not a crash")
    func damaged() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let chunks = [(0..<4).map { Self.entry($0, category: "c") }, (4..<6).map { Self.entry($0, category: "c") },
                      (6..<8).map { Self.entry($0, category: "c") }]
        let stored = try Self.stored(chunks, in: folder.path)
        let store = SpillEntries(files: StoredFiles(), balance: nil)
        for (chunk, stored) in zip(chunks, stored) { try store.append(chunk, stored: stored) }
        let handle = try #require(FileHandle(forUpdatingAtPath: stored[0].file))
        try handle.truncate(atOffset: 40)
        try handle.close()
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: stored[1].file)))
        bytes[stored[1].offset + 3] = 0x7F   // the first id's length: far past the end
        try Data(bytes).write(to: URL(fileURLWithPath: stored[1].file))
        try FileManager.default.removeItem(atPath: stored[2].file)
        for chunk in 0..<3 {
            let error = try #require(throws: RefineryError.self) { try store.entries(ofChunk: chunk) }
            #expect(error.code == .output)
            #expect("\(error)".contains("unit-\(chunk).unit"))
        }
        // Walking every entry, the first damaged chunk's error reaches the caller, before any entry.
        var walked = 0
        let error = try #require(throws: RefineryError.self) { try store.forEach(.dedupKeys) { _, _ in walked += 1 } }
        #expect("\(error)".contains("unit-0.unit") && walked == 0)
    }

    @Test("candidate pairs are measured on shingle sets made again from the spilled lines of the batches that hold them")
    func shingleSets() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let words = (0..<60).map { "w\($0 * 7919 % 1000)" }
        let texts = [words.joined(separator: " "), "short text here", "another record entirely different",
                     (words.prefix(40) + ["x", "y"] + words.dropFirst(42)).joined(separator: " "), "", "short text, here!"]
        var records = texts.enumerated().map { Record(id: "r\($0.offset)", source: "s", text: $0.element, location: SourceLocation(file: "f")) }
        records[2] = Record(id: "r2", source: "s", messages: [Message(role: "user", content: "another record"),
                                                               Message(role: "assistant", content: "entirely different")],
                            location: SourceLocation(file: "f"))
        // Three batches of two in three unit files; only the frames are read back.
        let spill = Spill(balance: nil)
        let compressor = try ZstdCompressor(level: 1)
        for batch in 0..<3 {
            var writer = JSONWriter()
            for record in records[(batch * 2)..<(batch * 2 + 2)] {
                record.writeJSON(to: &writer)
                writer.byte(0x0A)
            }
            var piece = SpillPiece()
            try compressor.compressFrame(writer.bytes, into: &piece.frame)
            piece.entries = (0..<2).map { Self.entry(batch * 2 + $0, category: "c") }
            let path = folder.path + "/unit-\(batch).unit", prefix = [UInt8](repeating: 0, count: 8 * (batch + 1))
            try Data(prefix + piece.frame).write(to: URL(fileURLWithPath: path))
            piece.stored = StoredSpill(frame: StoredBytes(file: path, offset: prefix.count, count: piece.frame.count),
                                       entries: StoredBytes(file: path, offset: 0, count: 0))
            try spill.append(piece, batch: batch, sourceIndex: 0)
        }
        let stage = DedupStage()
        var scratch = stage.makeScratch()
        func set(_ index: Int) -> [UInt32] {
            var view = RecordView()
            return stage.shingleSet(of: view.text(of: records[index]), scratch: &scratch)
        }
        let pairs = [CandidatePair(candidate: 0, record: 3), CandidatePair(candidate: 1, record: 5), CandidatePair(candidate: 2, record: 5),
                     CandidatePair(candidate: 4, record: 5)]
        for threads in [1, 2] {
            let measured = try ShingleSets.similarities(of: pairs, in: spill, stage: stage, threads: threads)
            #expect(measured.records == 6)
            #expect(measured.similarities == pairs.map { DedupStage.jaccard(set($0.candidate), set($0.record)) })
        }
        #expect(try ShingleSets.similarities(of: [], in: spill, stage: stage, threads: 2).records == 0)
        // A frame that is not zstd, and one with fewer lines than records, are damaged, and said so, naming the file.
        let damaged = Spill(balance: nil)
        var piece = SpillPiece()
        piece.entries = (0..<2).map { Self.entry($0, category: "c") }
        try Data([1, 2, 3, 4]).write(to: URL(fileURLWithPath: folder.path + "/bad.unit"))
        piece.stored = StoredSpill(frame: StoredBytes(file: folder.path + "/bad.unit", offset: 0, count: 4), entries: StoredBytes(file: "", offset: 0, count: 0))
        try damaged.append(piece, batch: 0, sourceIndex: 0)
        piece.frame = []
        var oneLine = JSONWriter()
        records[0].writeJSON(to: &oneLine)
        oneLine.byte(0x0A)
        try compressor.compressFrame(oneLine.bytes, into: &piece.frame)
        try Data(piece.frame).write(to: URL(fileURLWithPath: folder.path + "/short.unit"))
        piece.stored = StoredSpill(frame: StoredBytes(file: folder.path + "/short.unit", offset: 0, count: piece.frame.count),
                                   entries: StoredBytes(file: "", offset: 0, count: 0))
        try damaged.append(piece, batch: 1, sourceIndex: 0)
        for (pair, file) in [(CandidatePair(candidate: 0, record: 1), "bad.unit"), (CandidatePair(candidate: 2, record: 3), "short.unit")] {
            let error = try #require(throws: RefineryError.self) { try ShingleSets.similarities(of: [pair], in: damaged, stage: stage, threads: 1) }
            #expect(error.code == .output && "\(error)".contains(file), "\(error)")
        }
    }

    @Test("categories counted a run at a time come to the per-record counts, however the runs interleave")
    func categoryRuns() {
        let sequence = ["a", "a", "b", "a", "c", "c", "c", "b", "a", "a"]
        var counts: [String: Int] = ["a": 5]
        var runs = CategoryRuns()
        for category in sequence { runs.add(category, to: &counts) }
        runs.flush(into: &counts)
        runs.flush(into: &counts)
        #expect(counts == ["a": 10, "b": 2, "c": 3])
    }
}
