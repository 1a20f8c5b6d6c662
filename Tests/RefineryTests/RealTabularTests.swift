import Foundation
import RefineryReaders
import RefineryRecords
import Testing

/// The tabular readers on real files: MovieLens-100K as shipped inside the recbole 1.2.1 wheel (`ml-100k.inter`,
/// 100 000 ratings of 943 users, RecBole's `name:type` header; `ml-100k.item`, 1 682 movies), fetched with pip by
/// `tools/fetch_real_data.sh` like the subtitle files, and skipped with the reason when that fails.
@Suite(.serialized, .realDataFiles) struct RealTabularTests {
    static func file(_ name: String) throws -> (name: String, bytes: [UInt8]) {
        guard case .success(let folder) = RealDataFiles.folder else { throw CancellationError() }
        return (name, [UInt8](try Data(contentsOf: folder.appendingPathComponent("recbole-1.2.1/\(name)"))))
    }

    static let ratings = """
        {columns: {user: "user_id:token", item: "item_id:token", rating: "rating:float", timestamp: "timestamp:float"}
        """

    @Test func movieLensRatingsBecomeOneTimeOrderedHistoryPerUser() throws {
        let format = try InteractionsFormat(options: ReaderTests.options(Self.ratings + "}"))
        let outcome = try CSVFormatTests.read([try Self.file("ml-100k.inter")], with: format, category: "interactions")
        #expect(outcome.rejects.isEmpty)
        #expect(outcome.records.count == 943)
        let histories = outcome.records.compactMap(\.interactions)
        #expect(histories.reduce(0) { $0 + $1.items.count } == 100_000)
        #expect(histories.allSatisfy { $0.items.count >= 20 && $0.timestamps == $0.timestamps.sorted() })
        #expect(histories.allSatisfy { $0.rewards.allSatisfy { [0, 0.25, 0.5, 0.75, 1].contains($0) } })
        // Users in byte order of their id; user 1's first ratings, ties on time kept in file order (checked with Python).
        #expect(outcome.records.prefix(3).map(\.id) == ["src/ml-100k.inter:user=1", "src/ml-100k.inter:user=10", "src/ml-100k.inter:user=100"])
        let first = try #require(histories.first)
        #expect(Array(first.items.prefix(6)) == ["168", "172", "165", "156", "196", "166"])
        #expect(Array(first.timestamps.prefix(3)) == [874_965_478, 874_965_478, 874_965_518])
        #expect(Array(first.rewards.prefix(6)) == [1, 1, 1, 0.75, 1, 1])
    }

    @Test func spillingToDiskGivesTheSameHistories() throws {
        let inMemory = try CSVFormatTests.read([try Self.file("ml-100k.inter")],
                                               with: InteractionsFormat(options: ReaderTests.options(Self.ratings + "}")), category: "i")
        let spilled = try CSVFormatTests.read([try Self.file("ml-100k.inter")],
                                              with: InteractionsFormat(options: ReaderTests.options(Self.ratings + ", memory_budget: 256KiB}")),
                                              category: "i")
        #expect(spilled.records == inMemory.records)
    }

    @Test func movieLensMoviesBecomeChatsFromATemplate() throws {
        let format = try MetadataCSVFormat(options: ReaderTests.options("""
            {delimiter: tab, quoting: false, prompt: "Which genres is {movie_title:token_seq} ({release_year:token})?",
             response: "{class:token_seq}", allow_empty: ["release_year:token"]}
            """))
        let outcome = try CSVFormatTests.read([try Self.file("ml-100k.item")], with: format, category: "metadata")
        #expect(outcome.rejects.isEmpty)
        #expect(outcome.records.count == 1682)
        let first = try #require(outcome.records.first)
        #expect(first.messages == [Message(role: "user", content: "Which genres is Toy Story (1995)?"),
                                   Message(role: "assistant", content: "Animation Children's Comedy")])
        #expect(first.id == "src/ml-100k.item:2")
        #expect(first.meta.map(\.key) == ["item_id:token"])
    }
}
