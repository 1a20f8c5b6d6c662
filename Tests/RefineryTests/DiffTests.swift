import Foundation
import RefineryPipeline
import RefineryRecords
@testable import RefineryReport
import RefinerySpec
import Testing

@Suite struct DiffTests {
    /// A dataset of `texts` by category, written by the real engine into `folder/name`.
    static func dataset(_ folder: TemporaryFolder, _ name: String, _ texts: [(category: String, text: String)]) throws -> String {
        let lines = texts.map { "{\"text\": \"\($0.text)\", \"category\": \"\($0.category)\"}" }
        try folder.write("\(name)/in/data.jsonl", lines.joined(separator: "\n") + "\n")
        let spec = try PipelineSpec.parse(yaml: """
            name: \(name)
            sources: [{name: src, kind: jsonl, glob: "in/*.jsonl"}]
            stages: [{validate: {min_chars: 5}}]
            output: {dir: out, dataset: d, validation_fraction: 0.2}
            """, file: folder.path + "/\(name)/spec.yaml", baseDirectory: folder.path + "/\(name)")
        let result = try Engine(plan: try RunPlan.make(spec: spec), options: RunOptions(workers: 1, report: false)).run()
        return result.directory
    }

    static func texts(_ category: String, _ range: Range<Int>) -> [(category: String, text: String)] {
        range.map { (category, "record \($0) about the \(category) shelf with some words to count") }
    }

    @Test("Jensen–Shannon divergence: 0 for equal distributions, 1 for disjoint ones, symmetric in between")
    func jensenShannon() {
        #expect(DatasetDiff.jensenShannon([0.5, 0.5], [0.5, 0.5]) == 0)
        #expect(abs(DatasetDiff.jensenShannon([1, 0], [0, 1]) - 1) < 1e-12)
        let a = [0.7, 0.2, 0.1], b = [0.1, 0.3, 0.6]
        let ab = DatasetDiff.jensenShannon(a, b)
        #expect(ab > 0.2 && ab < 0.6)
        #expect(abs(ab - DatasetDiff.jensenShannon(b, a)) < 1e-12)
    }

    @Test("shares, novelty and thresholds between two real datasets; text, JSON and HTML agree")
    func twoVersions() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let old = try Self.dataset(folder, "old", Self.texts("a", 0..<30) + Self.texts("b", 0..<30))
        // New: the same 30 a records, 10 of the b ones, 20 new c records.
        let new = try Self.dataset(folder, "new", Self.texts("a", 0..<30) + Self.texts("b", 0..<10) + Self.texts("<c>", 0..<20))
        let diff = try DatasetDiff.compare(old: old, new: new, thresholds: DatasetDiff.Thresholds(maxShareChange: 0.2, maxNewRecords: 0.5))
        let shares = Dictionary(uniqueKeysWithValues: diff.shares.filter { $0.field == "category" }.map { ($0.name, $0) })
        #expect(abs(shares["a"]!.change) < 1e-12)
        #expect(abs(shares["b"]!.change - (10.0 / 60 - 0.5)) < 1e-12)
        #expect(abs(shares["<c>"]!.newShare - 20.0 / 60) < 1e-12 && shares["<c>"]!.oldShare == 0)
        #expect(diff.shares.first?.name == "b", "largest change first")
        #expect(diff.novelty.newRecords == 60 && diff.novelty.recordsNotInOld == 20)
        #expect(diff.novelty.sampledNgrams > 0 && diff.novelty.ngramsNotInOld > 0 && diff.novelty.ngramFraction < 1)
        // Share of b fell by 33 points and c rose by 33: both pass 0.2; a third of the records are new (under 0.5).
        #expect(Set(diff.breaches.map(\.subject)) == ["category b", "category <c>"])
        #expect(diff.html.contains("&lt;c&gt;") && !diff.html.contains("<c>"))
        let decoded = try JSONSerialization.jsonObject(with: try diff.json()) as? [String: Any]
        #expect((decoded?["breaches"] as? [Any])?.count == 2)

        let same = try DatasetDiff.compare(old: old, new: old, thresholds: DatasetDiff.Thresholds(maxShareChange: 0, maxDivergence: 0,
                                                                                                 maxNewRecords: 0, maxNewNgrams: 0))
        #expect(same.breaches.isEmpty, "a version against itself moves nothing: \(same.breaches)")
        #expect(same.distributions.allSatisfy { $0.divergence == nil || $0.divergence == 0 })
    }

    @Test("refinery diff exits 3 when a threshold is passed, 0 otherwise, and writes --html")
    func commandLine() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let old = try Self.dataset(folder, "old", Self.texts("a", 0..<20) + Self.texts("b", 0..<20))
        let new = try Self.dataset(folder, "new", Self.texts("a", 0..<20) + Self.texts("b", 0..<5))
        let passed = try refinery(["diff", old, new, "--max-share-change", "0.1", "--html", folder.path + "/diff.html"])
        #expect(passed.status == 3, "\(passed.stderr)")
        #expect(passed.stderr.contains("max_share_change: category a"))
        #expect(passed.stdout.contains("THRESHOLDS EXCEEDED"))
        #expect(FileManager.default.fileExists(atPath: folder.path + "/diff.html"))
        let calm = try refinery(["diff", old, new, "--max-share-change", "0.4"])
        #expect(calm.status == 0, "\(calm.stderr)")
        #expect(calm.stdout.contains("share of written records"))
        #expect(try refinery(["diff", old, folder.path + "/nowhere"]).status == 64)
    }
}
