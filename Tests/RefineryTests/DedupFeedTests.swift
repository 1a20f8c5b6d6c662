import Foundation
@testable import RefineryPipeline
import RefineryRecords
import RefineryStages
import Testing

/// Dedup's resolver on a thread of its own, fed chunks of spilled records as their units are committed.
@Suite struct DedupFeedTests {
    /// Ten records: 3 the same text as 0; 7 a near duplicate of 5 (same bands and sketch, same shingles); 9 looks like
    /// 1 by its sketch but shares no shingle with it, so exact verification keeps it.
    static let shingleSets: [[UInt32]] = [[1, 2], [10, 11, 12], [30], [1, 2], [40, 41], [50, 51, 52, 53, 54], [60], [50, 51, 52, 53, 54],
                                          [70], [20, 21, 22]]

    static func entries() -> [SpillEntry] {
        let stage = DedupStage()
        return (0..<10).map { n in
            let exact: UInt64 = n == 3 ? 1000 : UInt64(1000 + n)
            let look = n == 7 ? 5 : n == 9 ? 1 : n == 3 ? 0 : n
            let bands = (0..<stage.hasher.bands).map { UInt64(look * 100 + $0) }
            let sketch = [UInt8](repeating: UInt8(look), count: stage.hasher.permutations)
            return SpillEntry(id: "r\(n)", category: "c", location: SourceLocation(file: "f", line: n + 1), lineBytes: 10,
                              contentBytes: 20 + n, contentChars: 20, quality: nil,
                              dedup: DedupKeys(exact: exact, bands: bands, sketch: sketch))
        }
    }

    /// Writes each chunk's entries into a unit-like file of its own.
    static func chunks(_ parts: [Range<Int>], in folder: String) throws -> [DedupFeed.Chunk] {
        let all = entries()
        return try parts.enumerated().map { number, range in
            var writer = ByteWriter()
            writer.spillEntries(Array(all[range]))
            let path = folder + "/unit-\(number).unit", head = [UInt8](repeating: 7, count: 16)
            try Data(head + writer.bytes).write(to: URL(fileURLWithPath: path))
            return DedupFeed.Chunk(entries: StoredBytes(file: path, offset: head.count, count: writer.bytes.count), records: range.count)
        }
    }

    /// The exact similarity of each pair, from ``shingleSets``.
    static func similarities(_ pairs: [CandidatePair]) -> [Double] {
        pairs.map { DedupStage.jaccard(Set(shingleSets[$0.candidate]).sorted(), Set(shingleSets[$0.record]).sorted()) }
    }

    @Test("fed in pieces as units commit, and sized as estimates come, it decides what a resolver given every record at once decides")
    func sameDecisions() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let chunks = try Self.chunks([0..<4, 4..<4, 4..<8, 8..<10], in: folder.path)
        let feed = DedupFeed(stage: DedupStage(), published: nil)
        feed.expect(records: 5)
        feed.add(chunks[0..<1])
        Thread.sleep(forTimeInterval: 0.01)
        feed.expect(records: 40_000)
        feed.add(chunks[1...])
        var outcome = try feed.finish()
        #expect(outcome.records == 10 && outcome.bytesIn == (0..<10).reduce(0) { $0 + 20 + $1 })
        // 7 and 9 wait to be verified against 5 and 1; 3 was an exact duplicate.
        #expect(outcome.resolver.pendingPairs == [CandidatePair(candidate: 5, record: 7), CandidatePair(candidate: 1, record: 9)])
        // As the engine does: the tables go before the pairs are measured; the decisions do not need them.
        let before = outcome.resolver.stateBytesPerRecord
        // Sized for 40,000 records: the tables and arrays hold the ten with room for the rest.
        #expect(before * 10 > 40_000 * 200)
        outcome.resolver.finishAdding()
        #expect(outcome.resolver.stateBytesPerRecord < before / 10 && outcome.resolver.indexBytesPerRecord == 0)
        outcome.resolver.settle(similarities: Self.similarities(outcome.resolver.pendingPairs))

        var direct = DedupResolver(stage: DedupStage())
        direct.defersVerification = true
        for entry in Self.entries() { direct.add(entry.dedup, quality: entry.quality, id: entry.id) }
        direct.settle(similarities: Self.similarities(direct.pendingPairs))
        let decisions = outcome.resolver.decisions()
        #expect(decisions == direct.decisions())
        #expect(decisions[3] == .exactDuplicate(of: 0, matched: 0))
        #expect(decisions[7] == .nearDuplicate(of: 5, matched: 5, jaccard: 1))
        #expect(decisions[9] == .keep)
        #expect(outcome.resolver.verifiedPairs == 2)
    }

    @Test("the records it is told to expect: each source's records per input byte so far, times its input bytes")
    func expectedRecords() {
        // 1,000 bytes of short records and 9,000 of long ones; nothing committed, then a unit of each.
        #expect(Spill.expectedRecords(sourceBytes: [1_000, 9_000], committedBytes: [0, 0], committedRecords: [0, 0]) == 0)
        #expect(Spill.expectedRecords(sourceBytes: [1_000, 9_000], committedBytes: [100, 0], committedRecords: [10, 0]) == 100)
        #expect(Spill.expectedRecords(sourceBytes: [1_000, 9_000], committedBytes: [100, 3_000], committedRecords: [10, 3]) == 109)
        #expect(Spill.expectedRecords(sourceBytes: [1_000, 9_000], committedBytes: [1_000, 9_000], committedRecords: [80, 30]) == 110)
    }

    @Test("a unit file it cannot read is an output error naming it; stopping it early drops what is queued")
    func failures() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let chunks = try Self.chunks([0..<5, 5..<10], in: folder.path)
        try FileManager.default.removeItem(atPath: chunks[1].entries.file)
        let feed = DedupFeed(stage: DedupStage(), published: nil)
        feed.add(chunks)
        let error = try #require(throws: RefineryError.self) { try feed.finish() }
        #expect(error.code == .output && "\(error)".contains("unit-1.unit"))

        let stopped = DedupFeed(stage: DedupStage(), published: nil)
        stopped.add(chunks[0..<1])
        stopped.shutdown()
    }
}
