import Foundation
import RefineryCodecs
import RefineryPipeline
import RefineryRecords
import RefineryShards
import RefinerySpec
import RefineryStages
import Testing

/// Dedup across runs: each version files what it published in `dedup-index/<dataset>/`, and later versions of the
/// dataset are deduplicated against it.
@Suite struct PublishedIndexTests {
    static let words = (0..<120).map { "w\($0 * 7919 % 1000)" }
    static let longText = words.joined(separator: " ")
    static let otherText = (0..<120).map { "v\($0 * 104_729 % 1000)" }.joined(separator: " ")
    static var editedText: String {
        var edited = words
        for k in 50..<52 { edited[k] = "changed\(k)" } // word 5-gram Jaccard 110/122 ≈ 0.90 with longText
        return edited.joined(separator: " ")
    }

    /// Runs a version of dataset `d` over `in/<name>` files into `out/<dir>`, with the catalog (and so the index)
    /// in the folder.
    static func run(_ folder: TemporaryFolder, dir: String, inputs: String, dedup: String = "{}", force: Bool = true) throws
        -> (ids: [String], rejects: [[(key: String, value: JSONValue)]], result: RunResult)
    {
        let spec = try PipelineSpec.parse(yaml: """
            name: nightly
            sources: [{name: s, kind: jsonl, glob: "\(inputs)"}]
            stages:
              - dedup: \(dedup)
            output: {dir: "out/\(dir)", dataset: d, validation_fraction: 0}
            catalog: catalog.sqlite
            """, file: folder.path + "/spec.yaml", baseDirectory: folder.path)
        let result = try RefineryTests.run(spec, workers: 2, force: force)
        let out = folder.path + "/out/\(dir)"
        return (try shardObjects(result.manifest.shards, in: out).compactMap { jsonString($0, "id") },
                try shardObjects(result.manifest.rejects, in: out), result)
    }

    /// Version one of dataset `d`: one line, `s/a.jsonl:1`, "The boats came back before dawn.", in `out/one`.
    static func publishNightOne(_ folder: TemporaryFolder) throws -> (ids: [String], rejects: [[(key: String, value: JSONValue)]], result: RunResult) {
        _ = try folder.write("night1/a.jsonl", GlobalStagesTests.line("The boats came back before dawn.") + "\n")
        return try run(folder, dir: "one", inputs: "night1/*.jsonl")
    }

    static func segments(_ folder: TemporaryFolder) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path + "/dedup-index/d")) ?? []).sorted()
    }

    @Test("a later version drops exact and near duplicates of what an earlier one published, naming the published record")
    func acrossVersions() throws {
        let folder = try TemporaryFolder()
        _ = try folder.write("night1/a.jsonl", [GlobalStagesTests.line(Self.longText), GlobalStagesTests.line("The boats came back before dawn.")]
            .joined(separator: "\n") + "\n")
        let first = try Self.run(folder, dir: "one", inputs: "night1/*.jsonl")
        #expect(first.ids == ["s/a.jsonl:1", "s/a.jsonl:2"])
        #expect(Self.segments(folder) == ["\(first.result.manifest.version).idx"])

        // Night 2 reads its own a.jsonl: its first line has the id of a published record (the same input, processed
        // again) and is not its duplicate; b.jsonl's first line is a near-duplicate of that published record.
        _ = try folder.write("night2/a.jsonl", [GlobalStagesTests.line(Self.longText), GlobalStagesTests.line("A fresh line for tonight.")]
            .joined(separator: "\n") + "\n")
        _ = try folder.write("night2/b.jsonl", [GlobalStagesTests.line(Self.editedText), GlobalStagesTests.line(Self.otherText)]
            .joined(separator: "\n") + "\n")
        let second = try Self.run(folder, dir: "two", inputs: "night2/*.jsonl")
        #expect(second.ids == ["s/a.jsonl:1", "s/a.jsonl:2", "s/b.jsonl:2"])
        #expect(second.rejects.map { jsonString($0, "reason") } == ["near_duplicate"])
        #expect(second.rejects.map { jsonString($0, "kept_id") } == ["s/a.jsonl:1"])
        #expect(jsonString(second.rejects[0], "detail")?.contains("published in d@\(first.result.manifest.version)") == true,
                "\(jsonString(second.rejects[0], "detail") ?? "")")
        #expect(second.result.manifest.totals.balances)
        #expect(Self.segments(folder).count == 2)
    }

    @Test("records with other ids: an exact copy of a published text is an exact_duplicate of it")
    func exactAcrossVersions() throws {
        let folder = try TemporaryFolder()
        let first = try Self.publishNightOne(folder)
        _ = try folder.write("night2/b.jsonl", [GlobalStagesTests.line("Something new."), GlobalStagesTests.line("the boats came back before dawn")]
            .joined(separator: "\n") + "\n")
        let second = try Self.run(folder, dir: "two", inputs: "night2/*.jsonl")
        #expect(second.ids == ["s/b.jsonl:1"])
        #expect(second.rejects.map { jsonString($0, "reason") } == ["exact_duplicate"])
        #expect(second.rejects.map { jsonString($0, "kept_id") } == ["s/a.jsonl:1"])
        #expect(jsonString(second.rejects[0], "detail")?.contains("d@\(first.result.manifest.version)") == true)
        // Rerunning version one (same inputs, up to date) leaves both segments; its own is never matched against it.
        let again = try Self.run(folder, dir: "one", inputs: "night1/*.jsonl", force: false)
        #expect(again.result.upToDate && again.ids == ["s/a.jsonl:1"])
        // across_versions: false ignores the index and files nothing.
        let third = try Self.run(folder, dir: "three", inputs: "night2/*.jsonl", dedup: "{across_versions: false}")
        #expect(third.ids == ["s/b.jsonl:1", "s/b.jsonl:2"])
        #expect(Self.segments(folder).count == 2)
    }

    @Test("replacing a version with --force takes its records out of the index")
    func forceRemovesSegment() throws {
        let folder = try TemporaryFolder()
        let first = try Self.publishNightOne(folder)
        _ = try folder.write("night2/b.jsonl", GlobalStagesTests.line("Something new.") + "\n")
        let replaced = try Self.run(folder, dir: "one", inputs: "night2/*.jsonl")
        #expect(Self.segments(folder) == ["\(replaced.result.manifest.version).idx"])
        #expect(first.result.manifest.version != replaced.result.manifest.version)
    }

    @Test("a damaged segment stops the run with the file named; one made with other parameters is skipped")
    func damagedSegment() throws {
        let folder = try TemporaryFolder()
        let first = try Self.publishNightOne(folder)
        _ = try folder.write("night2/b.jsonl", GlobalStagesTests.line("the boats came back before dawn") + "\n")
        // Other shingle size: its keys are not comparable, so the segment is not used and nothing is dropped.
        let other = try Self.run(folder, dir: "two", inputs: "night2/*.jsonl", dedup: "{shingle: 4}")
        #expect(other.ids == ["s/b.jsonl:1"])
        #expect(Self.segments(folder).count == 2)

        let path = folder.path + "/dedup-index/d/\(first.result.manifest.version).idx"
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count / 2] ^= 0x40
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        do {
            _ = try Self.run(folder, dir: "three", inputs: "night2/*.jsonl")
            Issue.record("a damaged segment was accepted")
        } catch let error as RefineryError {
            #expect(error.code == .integrity)
            #expect(error.location?.file == path)
            #expect(error.message.contains("checksum"))
        }
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/out/three/manifest.json"))
    }

    @Test("a segment round-trips: keys, ids, records without bands")
    func segmentRoundTrip() throws {
        let stage = DedupStage()
        var file = PublishedIndexFile(dataset: "d", version: "v-1", stage: stage)
        let sketch = (0..<stage.hasher.permutations).map { UInt8(truncatingIfNeeded: $0 * 37) }
        file.append(DedupKeys(exact: 42, bands: (0..<14).map { UInt64($0) << 40 | 0xFFFF_FFFF }, sketch: sketch), id: "a:1")
        file.append(DedupKeys(exact: 7), id: "ü/€:2")
        let decoded = try PublishedIndexFile(decoding: try file.encoded())
        #expect(decoded.ids == ["a:1", "ü/€:2"])
        #expect(decoded.exact == [42, 7])
        #expect(decoded.hasBands(0) && !decoded.hasBands(1))
        #expect(decoded.parameters == PublishedIndexFile.parameters(of: stage))

        var index = PublishedIndex(stage: stage)
        try index.add(decoded)
        let same = DedupKeys(exact: 1, bands: (0..<14).map { UInt64($0) << 40 | 0xFFFF_FFFF }, sketch: sketch)
        #expect(index.match(same, id: "b:1") == PublishedMatch(id: "a:1", version: "v-1", jaccard: 1))
        #expect(index.match(same, id: "a:1") == nil)
        #expect(index.match(DedupKeys(exact: 7), id: "c:1") == PublishedMatch(id: "ü/€:2", version: "v-1", jaccard: nil))
        // Same bucket, unrelated sketch: ruled out by the 2-bit agreement.
        let stranger = DedupKeys(exact: 2, bands: same.bands, sketch: sketch.map { $0 ^ 1 })
        #expect(index.match(stranger, id: "b:2") == nil)
        #expect(throws: RefineryError.self) { try PublishedIndexFile(decoding: Array(try file.encoded().dropLast(9))) }
    }

    @Test("the manifest shows each category's records and characters before and after the global stages")
    func categoryMix() throws {
        let lines = [GlobalStagesTests.line("Same words here.", category: "a"), GlobalStagesTests.line("same words here", category: "a"),
                     GlobalStagesTests.line("Ünïcode wörds", category: "b")]
        let (_, _, manifest, _) = try GlobalStagesTests.run(files: [("a.jsonl", lines)], stages: "  - dedup: {}")
        #expect(manifest.categoryMix?["a"] == CategoryMix(recordsBefore: 2, charsBefore: 31, recordsAfter: 1, charsAfter: 16))
        #expect(manifest.categoryMix?["b"] == CategoryMix(recordsBefore: 1, charsBefore: 13, recordsAfter: 1, charsAfter: 13))
        #expect(Funnel.render(manifest, directory: "out").contains("share of chars after"))
    }
}
