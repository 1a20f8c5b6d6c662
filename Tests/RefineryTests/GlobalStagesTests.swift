import Foundation
import RefineryCodecs
import RefineryRecords
import RefineryShards
import RefinerySpec
@testable import RefineryStages
import Testing

/// Dedup and balance run over the whole run: spill, resolve in canonical order, write out.
@Suite struct GlobalStagesTests {
    /// Runs `stages` over JSONL files and returns the written records' ids (train then validation, in order), the
    /// rejects as objects, and the manifest.
    static func run(files: [(String, [String])], stages: String, output: String = "validation_fraction: 0.2", workers: Int = 2,
                    folder: TemporaryFolder? = nil) throws
        -> (ids: [String], rejects: [[(key: String, value: JSONValue)]], manifest: Manifest, folder: String)
    {
        let folder = try folder ?? TemporaryFolder()
        for (name, lines) in files { _ = try folder.write("in/\(name)", lines.joined(separator: "\n") + "\n") }
        let spec = try PipelineSpec.parse(yaml: """
            name: global
            sources: [{name: s, kind: jsonl, glob: "in/*.jsonl"}]
            stages:
            \(stages)
            output: {dir: out, \(output)}
            engine: {batch_records: 3}
            """, file: folder.path + "/spec.yaml", baseDirectory: folder.path)
        let result = try RefineryTests.run(spec, workers: workers, force: true)
        let ids = try shardObjects(result.manifest.shards, in: folder.path + "/out").compactMap { jsonString($0, "id") }
        return (ids, try shardObjects(result.manifest.rejects, in: folder.path + "/out"), result.manifest, folder.path)
    }


    static func line(_ text: String, category: String = "c", quality: Double? = nil) -> String {
        var object: [String: Any] = ["text": text, "category": category]
        if let quality { object["scores"] = ["quality": quality] }
        return String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    @Test("exact duplicates after normalisation are dropped with the id of the first record kept")
    func exactDuplicates() throws {
        let lines = [Self.line("The boats came back before dawn."), Self.line("Something else entirely, said twice."),
                     Self.line("the  BOATS came back, before dawn!"), Self.line("Something else entirely said twice")]
        let (ids, rejects, manifest, _) = try Self.run(files: [("a.jsonl", lines)], stages: "  - dedup: {}")
        #expect(Set(ids) == ["s/a.jsonl:1", "s/a.jsonl:2"])
        let dedup = rejects.filter { jsonString($0, "stage") == "dedup" }
        #expect(dedup.map { jsonString($0, "id") } == ["s/a.jsonl:3", "s/a.jsonl:4"])
        #expect(dedup.map { jsonString($0, "kept_id") } == ["s/a.jsonl:1", "s/a.jsonl:2"])
        #expect(dedup.allSatisfy { jsonString($0, "reason") == "exact_duplicate" })
        #expect(manifest.totals.quarantinedByReason["dedup.exact_duplicate"] == 2)
        #expect(manifest.totals.balances)
    }

    @Test("near duplicates (one sentence changed in a long text) are dropped with the kept id; different texts stay")
    func nearDuplicates() throws {
        let words = (0..<120).map { "w\($0 * 7919 % 1000)" }
        let original = words.joined(separator: " ")
        var edited = words
        for k in 50..<54 { edited[k] = "changed\(k)" } // one contiguous edit: word 5-gram Jaccard ≈ 0.86
        let other = (0..<120).map { "v\($0 * 104_729 % 1000)" }.joined(separator: " ")
        let lines = [Self.line(original), Self.line(other), Self.line(edited.joined(separator: " "))]
        let (ids, rejects, manifest, _) = try Self.run(files: [("a.jsonl", lines)], stages: "  - dedup: {}")
        #expect(Set(ids) == ["s/a.jsonl:1", "s/a.jsonl:2"])
        #expect(rejects.map { jsonString($0, "reason") } == ["near_duplicate"])
        #expect(rejects.map { jsonString($0, "kept_id") } == ["s/a.jsonl:1"])
        #expect(manifest.stages.first { $0.name == "dedup" }?.dropped == ["near_duplicate": 1])
    }

    @Test("verify: exact measures candidates on shingle sets made again from their spilled lines, chats' turns joined as the keys saw them")
    func exactVerification() throws {
        let words = (0..<120).map { "w\($0 * 7919 % 1000)" }
        var edited = words
        for k in 50..<54 { edited[k] = "changed\(k)" }
        let original = "«" + words.joined(separator: " ") + "» \"é\"", copy = "«" + edited.joined(separator: " ") + "» \"é\""
        func chat(_ text: String) -> String {
            let half = text.count / 2
            let turns = [["role": "user", "content": String(text.prefix(half))], ["role": "assistant", "content": String(text.dropFirst(half))]]
            return String(decoding: try! JSONSerialization.data(withJSONObject: ["messages": turns], options: [.sortedKeys]), as: UTF8.self)
        }
        let other = (0..<120).map { "v\($0 * 104_729 % 1000)" }.joined(separator: " ")
        // Batches of three: each duplicate is in a later batch than the record it matches.
        let lines = [Self.line(original), chat(other + " one"), Self.line("filler one two three"), Self.line("filler four five six"),
                     Self.line(copy), chat(other + " two")]
        let (_, rejects, _, folder) = try Self.run(files: [("a.jsonl", lines)], stages: "  - dedup: {}")
        let stage = DedupStage()
        var scratch = stage.makeScratch()
        func similarity(_ a: String, _ b: String) -> String {
            let value = DedupStage.jaccard(stage.shingleSet(of: TextView(a), scratch: &scratch), stage.shingleSet(of: TextView(b), scratch: &scratch))
            return "Jaccard \((value * 1000).rounded() / 1000)"
        }
        let chatHalves = { (text: String) in String(text.prefix(text.count / 2)) + "\n\n" + String(text.dropFirst(text.count / 2)) }
        #expect(rejects.map { jsonString($0, "id") } == ["s/a.jsonl:5", "s/a.jsonl:6"])
        #expect(jsonString(rejects[0], "detail") == "near-duplicate of s/a.jsonl:1, \(similarity(original, copy))")
        #expect(jsonString(rejects[1], "detail") == "near-duplicate of s/a.jsonl:2, \(similarity(chatHalves(other + " one"), chatHalves(other + " two")))")
        let stats = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/out/stats.json"))) as! [String: Any]
        #expect(stats["dedup_verified_pairs"] as? Int == 2 && stats["dedup_verified_records"] as? Int == 4)
    }

    @Test("keep: best_quality keeps the highest scores.quality of a group, ties to the first")
    func bestQuality() throws {
        let lines = [Self.line("Same words here.", quality: 0.5), Self.line("same words here", quality: 0.9),
                     Self.line("SAME WORDS HERE", quality: 0.9)]
        let (ids, rejects, _, _) = try Self.run(files: [("a.jsonl", lines)], stages: "  - dedup: {keep: best_quality}")
        #expect(ids == ["s/a.jsonl:2"])
        #expect(rejects.compactMap { jsonString($0, "kept_id") } == ["s/a.jsonl:2", "s/a.jsonl:2"])
    }

    static func corpus() -> [(String, [String])] {
        var files: [(String, [String])] = []
        for f in 0..<4 {
            var lines: [String] = []
            for i in 0..<25 {
                let n = (f * 25 + i) % 37 // repeats across files
                lines.append(Self.line("Record number \(n) of the corpus, with some words.", category: ["a", "b", "c"][n % 3]))
            }
            files.append(("part-\(f).jsonl", lines))
        }
        return files
    }

    static let stages = """
          - dedup: {}
          - balance: {temperature: 0.3, max_repeat: 2, seed: 7}
        """

    @Test("dedup and balance give byte-identical datasets with 1, 2 and 3 workers")
    func workers() throws {
        var digests: Set<String> = []
        for workers in 1...3 {
            let folder = try TemporaryFolder()
            defer { folder.cleanup() }
            _ = try Self.run(files: Self.corpus(), stages: Self.stages, output: "validation_fraction: 0.2, validation_min: 5", workers: workers, folder: folder)
            let contents = try folderContents(folder.path + "/out", excluding: ["stats.json"])
            digests.insert(contents.sorted { $0.key < $1.key }.map { "\($0.key):\(XXH3.hash([UInt8]($0.value)))" }.joined(separator: ","))
        }
        #expect(digests.count == 1)
    }

    @Test("the same files written in another order give the same survivors (inputs are read sorted by path)")
    func fileOrder() throws {
        let forward = try Self.run(files: Self.corpus(), stages: Self.stages)
        let backward = try Self.run(files: Self.corpus().reversed(), stages: Self.stages)
        #expect(forward.ids == backward.ids)
        #expect(!forward.ids.isEmpty)
    }

    @Test("balance: caps, weights and up-sampling give exact counts; copies get #rN ids; accounting includes repeats")
    func balance() throws {
        var lines: [String] = []
        for i in 0..<40 { lines.append(Self.line("Big category record \(i) with its own words.", category: "big")) }
        for i in 0..<5 { lines.append(Self.line("Small category record \(i) with its own words.", category: "small")) }
        let files = [("a.jsonl", lines)]

        let capped = try Self.run(files: files, stages: "  - balance: {caps: {big: 10}}", output: "validation_fraction: 0")
        #expect(capped.manifest.splits["train"]?.categories == ["big": 10, "small": 5])
        #expect(capped.manifest.totals.quarantinedByReason["balance.over_cap"] == 30)

        let weighted = try Self.run(files: files, stages: "  - balance: {weights: {big: 1, small: 1}, max_repeat: 3}",
                                    output: "validation_fraction: 0")
        // 45 records kept in total, half each: big 22 or 23 (down-sampled), small 15 (5 × max_repeat 3).
        let categories = weighted.manifest.splits["train"]?.categories ?? [:]
        #expect(categories["small"] == 15)
        #expect((22...23).contains(categories["big"] ?? 0))
        #expect(weighted.ids.contains("s/a.jsonl:41#r2") && weighted.ids.contains("s/a.jsonl:41#r3"))
        #expect(weighted.manifest.totals.repeats == 10)
        #expect(weighted.manifest.totals.balances)
    }

    @Test("balance's choice is independent of the train/validation split: a capped category keeps the split's fraction")
    func balanceKeepsSplitFraction() throws {
        var lines: [String] = []
        for i in 0..<200 { lines.append(Self.line("Capped category record \(i) with its own words.", category: "big")) }
        // With ranks equal to the split's hash (before 0.3.0) the 50 kept were the 50 smallest hashes, which hold every
        // validation record of the 200 (about 40): validation came out at about 80 % of the category instead of 20 %.
        for seed in ["", ", seed: 7"] {
            let result = try Self.run(files: [("a.jsonl", lines)], stages: "  - balance: {caps: {big: 50}\(seed)}",
                                      output: "validation_fraction: 0.2")
            let validation = result.manifest.splits["validation"]?.records ?? 0
            #expect(validation + (result.manifest.splits["train"]?.records ?? 0) == 50)
            #expect((3...20).contains(validation), "seed '\(seed)': \(validation) of 50 kept records in validation")
        }
    }

    @Test("balance takes the members first in rank order, ties to the lower index, as sorting them all would")
    func firstInRankOrder() {
        var random = SplitMix64(seed: 7)
        for n in [1, 2, 5, 64, 1000] {
            // Ranks drawn from a few values, so that ties are everywhere, or from all of UInt64.
            for spread in [UInt64(3), UInt64(n), UInt64.max] {
                let members = (0..<n).map { _ in (rank: spread == .max ? random.next() : random.next() % spread, tokens: 1) }
                let order = members.indices.sorted { (members[$0].rank, $0) < (members[$1].rank, $1) }
                for count in Set([0, 1, n / 3, n - 1, n]) {
                    #expect(BalanceStage.first(count, of: members) == order.prefix(count).sorted(), "n \(n), spread \(spread), count \(count)")
                }
            }
        }
    }

    @Test("selection finds the k-th smallest as sorting would: ties, sorted and reversed input, and after its last round")
    func selection() {
        var random = SplitMix64(seed: 11)
        var inputs: [[UInt64]] = [[5], [2, 2, 2, 2], Array(0..<200), Array((0..<200).reversed()),
                                  (0..<200).map { UInt64(min($0, 199 - $0)) }]
        for n in [3, 17, 256] {
            inputs.append((0..<n).map { _ in random.next() % 4 })
            inputs.append((0..<n).map { _ in random.next() })
        }
        for values in inputs {
            let sorted = values.sorted()
            for k in Set([0, values.count / 2, values.count - 1] + (0..<min(values.count, 20))) {
                for rounds in [64, 1, 0] {
                    var scratch = values
                    #expect(BalanceStage.smallest(k, in: &scratch, rounds: rounds) == sorted[k], "k \(k) of \(values.count), \(rounds) rounds")
                    #expect(scratch.sorted() == sorted)
                }
            }
        }
    }

    @Test("validation_min and validation_per_category move train records to validation")
    func splitMinimums() throws {
        var lines: [String] = []
        for i in 0..<30 { lines.append(Self.line("Alpha record \(i) with its own words.", category: "alpha")) }
        for i in 0..<10 { lines.append(Self.line("Beta record \(i) with its own words.", category: "beta")) }
        let result = try Self.run(files: [("a.jsonl", lines)], stages: "  - dedup: {}",
                                  output: "validation_fraction: 0, validation_min: 4, validation_per_category: 1")
        let validation = result.manifest.splits["validation"]
        #expect(validation?.records == 4)
        #expect(validation?.categories["beta"] == 1)
    }

    @Test("spec errors name the problem", arguments: [
        ("  - dedup: {}\n  - validate: {}", "comes after 'dedup'"),
        ("  - balance: {}", "balance needs weights, temperature, caps or token_caps"),
        ("  - balance: {caps: {a: 1}}\n  - dedup: {}", "list dedup first"),
        ("  - dedup: {keep: last}", "unknown keep 'last'"),
        ("  - balance: {weights: {a: 1}, temperature: 0.5}", "not both"),
    ])
    func specErrors(stages: String, message: String) throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        #expect { try Self.run(files: [("a.jsonl", [Self.line("Some text here.")])], stages: stages, folder: folder) } throws: {
            "\($0)".contains(message)
        }
    }
}
