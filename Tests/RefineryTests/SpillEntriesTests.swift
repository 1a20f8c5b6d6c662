import Foundation
import RefineryCodecs
@testable import RefineryPipeline
import RefineryRecords
import RefineryStages
import Testing

/// The spill's entry store: every spilled record's id, location and dedup keys on disk, only its facts in memory.
@Suite struct SpillEntriesTests {
    static func entry(_ n: Int, category: String, dedup: Bool = true) -> SpillEntry {
        SpillEntry(id: "source/path/file-\(n).jsonl:\(n + 1)", category: category,
                   location: SourceLocation(file: "/data/file-\(n).jsonl", line: n + 1), lineBytes: 100 + n, contentBytes: 50 + n,
                   contentChars: 40 + n, quality: n % 3 == 0 ? nil : Double(n) / 100,
                   dedup: dedup ? DedupKeys(exact: UInt64(n) &* 0x9e37_79b9, bands: [UInt64(n), UInt64(n) << 8], sketch: [UInt8(n % 256), 7]) : nil,
                   shingleCount: n % 5)
    }

    static func same(_ a: SpillEntry, _ b: SpillEntry) -> Bool {
        a.id == b.id && a.category == b.category && a.location == b.location && a.lineBytes == b.lineBytes
            && a.contentBytes == b.contentBytes && a.contentChars == b.contentChars && a.quality == b.quality
            && a.dedup?.exact == b.dedup?.exact && a.dedup?.bands == b.dedup?.bands && a.dedup?.sketch == b.dedup?.sketch
            && a.shingleCount == b.shingleCount
    }

    @Test("chunks read back as written, the facts hold each record's hashes and category, ids come from the chunks that hold them")
    func roundTrip() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        var balance = BalanceStage()
        balance.seed = 42
        let store = try SpillEntries(path: folder.path + "/entries.tmp", balance: balance)
        defer { store.remove() }
        let chunks = [(0..<3).map { Self.entry($0, category: "a") },
                      [],
                      (3..<7).map { Self.entry($0, category: $0 % 2 == 0 ? "b" : "a", dedup: $0 != 4) }]
        var offset = 0
        for chunk in chunks {
            try store.append(chunk, firstShingle: offset)
            offset += chunk.reduce(0) { $0 + $1.shingleCount }
        }
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
        let all = chunks.flatMap { $0 }
        for (index, entry) in all.enumerated() {
            let facts = store.facts[index]
            #expect(store.category(index) == entry.category)
            #expect(facts.splitHash == XXH3.hash(entry.id))
            #expect(facts.rank == balance.rank(entry.id))
            #expect(facts.contentBytes == entry.contentBytes && facts.contentChars == entry.contentChars)
            #expect(Int(facts.shingleCount) == entry.shingleCount)
        }
        #expect(store.facts[6].shingleOffset == (0..<6).reduce(0) { $0 + $1 % 5 })
        #expect(try store.ids(of: [6, 0, 4]) == [0: all[0].id, 4: all[4].id, 6: all[6].id])
        #expect(try store.ids(of: []).isEmpty)
        var digest = BandFiles.Digest()
        for entry in all { digest.add(entry.dedup) }
        #expect(store.digest.value == digest.value && store.digest.records == 7)
    }

    @Test("the workers' encoding of a piece's entries is what the store and the unit file would write themselves")
    func encodedOnce() throws {
        let entries = (0..<5).map { Self.entry($0, category: "c") }
        var writer = ByteWriter()
        writer.spillEntries(entries)
        var piece = SpillPiece(frame: [1, 2, 3], entries: entries, shingles: [9, 8, 7])
        var plain = ByteWriter()
        plain.spillPiece(piece)
        piece.encodedEntries = writer.bytes
        var reused = ByteWriter()
        reused.spillPiece(piece)
        #expect(plain.bytes == reused.bytes)
        var reader = ByteReader(reused.bytes)
        let back = try reader.spillPiece()
        #expect(back.encodedEntries == writer.bytes)
        #expect(back.frame == [1, 2, 3] && back.shingles == [9, 8, 7])
        #expect(zip(back.entries, entries).allSatisfy(Self.same))
    }

    @Test("a damaged entry file is an output error that names it, not a crash")
    func damaged() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let path = folder.path + "/entries.tmp"
        let store = try SpillEntries(path: path, balance: nil)
        defer { store.remove() }
        try store.append((0..<4).map { Self.entry($0, category: "c") }, firstShingle: 0)
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        try handle.truncate(atOffset: 20)
        try handle.close()
        let error = try #require(throws: RefineryError.self) { try store.entries(ofChunk: 0) }
        #expect(error.code == .output)
        #expect("\(error)".contains("entries.tmp"))
    }
}
