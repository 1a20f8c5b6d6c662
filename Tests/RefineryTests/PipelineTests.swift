import Foundation
import RefineryCodecs
import RefineryPipeline
import RefineryRecords
import RefineryShards
import RefinerySpec
import Testing

/// The demo corpus's known answers, written by tools/make_fixtures.py.
struct ExpectedFunnel: Decodable {
    var read: Int
    var written: Int
    var quarantined: Int
    var blank_lines: Int
    var dropped: [String: Int]
}

func demoSpec(output: String) throws -> PipelineSpec {
    var spec = try PipelineSpec.load(path: repositoryRoot.appendingPathComponent("pipelines/demo.yaml").path)
    spec.output.directory = output
    spec.output.root = output
    // The catalog (and the dedup index beside it) moves with the output, as it would had the spec said so.
    spec.catalogPath = (output as NSString).deletingLastPathComponent + "/catalog.sqlite"
    return spec
}

/// Runs a spec with the engine; without the report unless asked (ReportTests check it).
func run(_ spec: PipelineSpec, workers: Int = 2, force: Bool = false, report: Bool = false,
         fileSystem: any OutputFileSystem = POSIXFileSystem()) throws -> RunResult {
    let plan = try RunPlan.make(spec: spec)
    return try Engine(plan: plan, options: RunOptions(workers: workers, force: force, report: report, fileSystem: fileSystem)).run()
}

/// A spec over files written into a temporary folder.
func tinySpec(_ folder: TemporaryFolder, kind: String = "jsonl", glob: String = "in/*", stages: String = "- validate: {min_chars: 5}",
              extra: String = "") throws -> PipelineSpec {
    try PipelineSpec.parse(yaml: """
        name: tiny
        sources:
          - name: src
            kind: \(kind)
            glob: \(glob)
            \(extra)
        stages:
          \(stages)
        output: {dir: out, shard_size: 1KiB, validation_fraction: 0.2}
        engine: {batch_records: 3}
        """, file: folder.url.appendingPathComponent("spec.yaml").path, baseDirectory: folder.path)
}

@Suite struct PipelineTests {
    @Test("the demo run accounts for every unit exactly as the fixture generator intended")
    func demoAccounting() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let expected = try JSONDecoder().decode(
            ExpectedFunnel.self, from: Data(contentsOf: repositoryRoot.appendingPathComponent("fixtures/demo/EXPECTED.json")))
        let result = try run(try demoSpec(output: folder.path + "/demo"))
        let totals = result.manifest.totals
        #expect(totals.read == expected.read)
        #expect(totals.written == expected.written)
        #expect(totals.quarantined == expected.quarantined)
        #expect(totals.quarantinedByReason == expected.dropped)
        #expect(totals.blankLines == expected.blank_lines)
        #expect(totals.balances)
        // Stage by stage: what goes in comes out or is dropped.
        for stage in result.manifest.stages {
            #expect(stage.recordsIn == stage.recordsOut + stage.droppedTotal, "stage \(stage.name)")
        }
        // The shards hold exactly the records the manifest says, and rejects hold the rest.
        let inspector = DatasetInspector()
        var seen = 0
        for entry in result.manifest.shards + result.manifest.rejects {
            let check = try inspector.check(path: folder.path + "/demo/" + entry.file, entry: entry,
                                            countField: entry.split == "train" || entry.split == "validation" ? "category" : "reason")
            #expect(check.problems.isEmpty, "\(entry.file): \(check.problems)")
            seen += check.records
        }
        #expect(seen == expected.read)
    }

    @Test("Refinery's own shards read back as jsonl with nothing lost")
    func reingest() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let first = try run(try demoSpec(output: folder.path + "/demo"))
        let spec = try PipelineSpec.parse(yaml: """
            name: again
            sources: [{name: again, kind: jsonl, glob: "demo/*.jsonl.zst"}]
            stages: [{validate: {min_chars: 20}}]
            output: {dir: out, validation_fraction: 0}
            """, file: folder.path + "/again.yaml", baseDirectory: folder.path)
        let second = try run(spec)
        #expect(second.manifest.totals.read == first.manifest.totals.written)
        #expect(second.manifest.totals.written == first.manifest.totals.written)
        var categories = first.manifest.splits["train"]?.categories ?? [:]
        categories.merge(first.manifest.splits["validation"]?.categories ?? [:], uniquingKeysWith: +)
        #expect(second.manifest.splits["train"]?.categories == categories)
    }

    @Test("every record has the same keys in the same order, meta round-trips, and a dataset card declares them")
    func stableSchema() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let result = try run(try demoSpec(output: folder.path + "/demo"))
        var keyOrders: Set<[String]> = []
        var sawChat = false
        var sawDocument = false
        for entry in result.manifest.shards {
            try DatasetInspector().forEachRecord(path: folder.path + "/demo/" + entry.file) { line in
                guard case .object(let members) = try JSONParser.parse(line).value else { return false }
                keyOrders.insert(members.map(\.key))
                if case .array = members.first(where: { $0.key == "messages" })?.value { sawChat = true }
                if case .string = members.first(where: { $0.key == "text" })?.value { sawDocument = true }
                if case .string(let meta)? = members.first(where: { $0.key == "meta" })?.value {
                    guard case .object = try JSONParser.parse(Array(meta.utf8)).value else {
                        Issue.record("meta is not a JSON object: \(meta)")
                        return false
                    }
                }
                return true
            }
        }
        #expect(sawChat && sawDocument)
        #expect(keyOrders == [["id", "source", "category", "lang", "text", "messages", "reward", "items", "rewards", "timestamps", "scores", "pii", "meta"]])
        let card = try String(contentsOfFile: folder.path + "/demo/README.md", encoding: .utf8)
        for key in ["id", "source", "category", "lang", "text", "messages", "reward", "items", "rewards", "timestamps", "scores", "pii", "meta"] {
            #expect(card.contains("  - name: \(key)\n"), "card lacks \(key)")
        }
        #expect(card.contains("path: \"train-*.jsonl.zst\""))
        #expect(card.contains("num_examples: \(result.manifest.splits["train"]!.records)"))
    }

    @Test("same inputs and spec give byte-identical datasets with 1, 2 and 3 workers")
    func deterministic() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        var outputs: [[String: Data]] = []
        for workers in [1, 2, 3] {
            let dir = folder.path + "/w\(workers)"
            _ = try run(try demoSpec(output: dir), workers: workers)
            outputs.append(try folderContents(dir, excluding: ["stats.json"]))
        }
        #expect(outputs[0].count >= 5)
        #expect(outputs[0] == outputs[1])
        #expect(outputs[0] == outputs[2])
    }

    @Test("every spec in pipelines/ loads and plans")
    func pipelinesDryRun() throws {
        let folder = repositoryRoot.appendingPathComponent("pipelines")
        let specs = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".yaml") }
        #expect(!specs.isEmpty)
        for name in specs {
            let plan = try RunPlan.make(spec: try PipelineSpec.load(path: folder.appendingPathComponent(name).path))
            #expect(!plan.files.isEmpty, "\(name) matches no input")
            #expect(plan.description.contains("stages: read"))
        }
    }

    @Test("a folder holding another version is refused; the same version is left alone; --force replaces")
    func existingDataset() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        try folder.write("in/a.jsonl", "{\"text\": \"first version of the text\"}\n")
        let spec = try tinySpec(folder)
        let first = try run(spec)
        #expect(!first.upToDate)
        #expect(try run(spec).upToDate)
        try folder.write("in/a.jsonl", "{\"text\": \"second version of the text\"}\n")
        let changed = try tinySpec(folder)
        let error = try #require(throws: RefineryError.self) { try run(changed) }
        #expect(error.code == .output)
        #expect(error.message.contains(first.manifest.version))
        let forced = try run(changed, force: true)
        #expect(forced.manifest.version != first.manifest.version)
        #expect(try Manifest.read(directory: folder.path + "/out").version == forced.manifest.version)
    }

    @Test("what a killed run left behind (temporary and orphan shards, no manifest) is cleared by the next run")
    func leftoversOfAKilledRun() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        try folder.write("in/a.jsonl", "{\"text\": \"a record that survives the crash\"}\n")
        try folder.write("out/train-00000.jsonl.zst.tmp", "half a shard")
        try folder.write("out/train-00003-of-00009.jsonl.zst", "an orphan from an older run")
        try folder.write("out/rejects/validate-00000.jsonl.zst.tmp", "half a reject shard")
        try folder.write("out/notes.txt", "the user's own file")
        let result = try run(try tinySpec(folder))
        let left = Set(try FileManager.default.subpathsOfDirectory(atPath: folder.path + "/out"))
        #expect(!left.contains { $0.hasSuffix(".tmp") })
        #expect(!left.contains("train-00003-of-00009.jsonl.zst"))
        #expect(left.contains("notes.txt"))
        #expect(left.isSuperset(of: result.manifest.shards.map(\.file)))
    }

    @Test("a manifest.json Refinery cannot read is left alone, with its folder, unless --force")
    func foreignManifest() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        try folder.write("in/a.jsonl", "{\"text\": \"some text that is long enough\"}\n")
        try folder.write("out/manifest.json", "{\"format\": \"refinery.dataset/2\"}")
        try folder.write("out/train-00000-of-00001.jsonl.zst", "someone else's shard")
        let error = try #require(throws: RefineryError.self) { try run(try tinySpec(folder)) }
        #expect(error.code == .output)
        #expect(FileManager.default.fileExists(atPath: folder.path + "/out/train-00000-of-00001.jsonl.zst"))
        #expect(try run(try tinySpec(folder), force: true).manifest.totals.written == 1)
    }

    @Test("a pinned output.version over changed inputs is refused, not skipped as complete")
    func pinnedVersion() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        try folder.write("in/a.jsonl", "{\"text\": \"first text, long enough\"}\n")
        let spec = { try tinySpec(folder, extra: "") }
        var pinned = try spec()
        pinned.output.version = "v1"
        _ = try run(pinned)
        #expect(try run(pinned).upToDate)
        try folder.write("in/a.jsonl", "{\"text\": \"first text, long enough\"}\n{\"text\": \"a new line arrived tonight\"}\n")
        var changed = try spec()
        changed.output.version = "v1"
        let error = try #require(throws: RefineryError.self) { try run(changed) }
        #expect(error.message.contains("output.version pins the label"))
    }

    @Test("two files of one source that would share ids are a spec error")
    func duplicateIDs() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        try folder.write("in/a/x.jsonl", "{\"text\": \"from folder a, long enough\"}\n")
        try folder.write("in/b/x.jsonl", "{\"text\": \"from folder b, long enough\"}\n")
        let spec = try PipelineSpec.parse(yaml: """
            name: dup
            sources: [{name: s, kind: jsonl, glob: [in/a/*.jsonl, in/b/*.jsonl]}]
            output: {dir: out}
            """, file: folder.path + "/dup.yaml", baseDirectory: folder.path)
        let error = try #require(throws: RefineryError.self) { try RunPlan.make(spec: spec) }
        #expect(error.message.contains("would both give ids 's/x.jsonl:N'"))
        // One glob over the common folder keeps the folders in the ids.
        let fixed = try PipelineSpec.parse(yaml: """
            name: dup
            sources: [{name: s, kind: jsonl, glob: "in/**/*.jsonl"}]
            output: {dir: out}
            """, file: folder.path + "/dup.yaml", baseDirectory: folder.path)
        #expect(try RunPlan.make(spec: fixed).files.map(\.relativePath) == ["a/x.jsonl", "b/x.jsonl"])
    }

    @Test("a failure after the shards are renamed removes them, the stats and the card: no half dataset")
    func failureWhileFinishing() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        try folder.write("in/a.jsonl", "{\"text\": \"some text that is long enough\"}\n")
        // A folder where the manifest's temporary file must go makes the very last write fail.
        try FileManager.default.createDirectory(atPath: folder.path + "/out/manifest.json.tmp", withIntermediateDirectories: true)
        #expect(throws: RefineryError.self) { try run(try tinySpec(folder)) }
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.path + "/out")
        // `.work` keeps the committed work units, for the next run to resume from.
        #expect(Set(left) == ["manifest.json.tmp", "rejects", ".work"], "left behind: \(left)")
    }

    @Test("a disk that fills up fails the run clearly and leaves no manifest and no temporary file")
    func diskFull() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        var lines = ""
        for i in 0..<300 { lines += "{\"text\": \"record number \(i) with enough words to pass validation\"}\n" }
        try folder.write("in/a.jsonl", lines)
        let spec = try tinySpec(folder)
        for limit in [0, 100, 1500, 4000] {
            let error = try #require(throws: RefineryError.self) {
                try run(spec, fileSystem: FillingFileSystem(capacity: limit))
            }
            #expect(error.message.contains("No space left on device"))
            let left = try FileManager.default.subpathsOfDirectory(atPath: folder.path + "/out")
            #expect(!left.contains("manifest.json"))
            #expect(!left.contains { $0.hasSuffix(".tmp") }, "left behind: \(left)")
        }
        // The same spec on a healthy disk then succeeds.
        #expect(try run(spec).manifest.totals.written == 300)
    }

    @Test("bad inputs are quarantined with named reasons and the run goes on")
    func badInputs() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        // A truncated .zst after three good lines.
        var good = ""
        for i in 0..<5000 { good += "{\"text\": \"line \(i) of a compressed file that is cut short\"}\n" }
        var compressed: [UInt8] = []
        try ZstdCompressor(level: 3).compressFrame(Array(good.utf8), into: &compressed)
        try folder.write("in/a-truncated.jsonl.zst", Array(compressed.prefix(compressed.count / 2)))
        // BOM and CRLF, an empty file, invalid UTF-8, and a 20 MB line.
        try folder.write("in/b-bom-crlf.jsonl", [0xEF, 0xBB, 0xBF] + Array("{\"text\": \"with a bom and crlf\"}\r\n{\"text\": \"second crlf line\"}\r\n".utf8))
        try folder.write("in/c-empty.jsonl", "")
        try folder.write("in/d-utf8.jsonl", Array("{\"text\": \"bad ".utf8) + [0xFF, 0xFE] + Array(" bytes here\"}\n".utf8))
        try folder.write("in/e-huge.jsonl", "{\"text\": \"" + String(repeating: "long words ", count: 2_000_000) + "\"}\n")
        try folder.write("in/f-notjson.jsonl", "this is not json\n{\"text\": [1]}\n")
        let result = try run(try tinySpec(folder, stages: "- validate: {min_chars: 5, max_chars: 100000}"))
        let totals = result.manifest.totals
        #expect(totals.balances)
        #expect(totals.quarantinedByReason["read.truncated_input"] == 1)
        #expect(totals.quarantinedByReason["read.invalid_json"] == 1)
        #expect(totals.quarantinedByReason["read.wrong_shape"] == 1)
        #expect(totals.quarantinedByReason["validate.invalid_utf8"] == 1)
        #expect(totals.quarantinedByReason["validate.too_long"] == 1)
        // The good lines before the cut survive, and the two BOM/CRLF lines are read cleanly.
        let truncatedKept = totals.read - totals.quarantined - 2
        #expect(truncatedKept > 0 && truncatedKept < 5000)
        #expect(totals.written == truncatedKept + 2)
    }

    @Test("a run whose inputs are all bad still succeeds and writes no data shard")
    func allBad() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        try folder.write("in/a.jsonl", "nope\n[1]\n{\"text\": \"x\"}\n")
        let result = try run(try tinySpec(folder))
        #expect(result.manifest.totals.written == 0)
        #expect(result.manifest.totals.quarantined == 3)
        #expect(result.manifest.shards.isEmpty)
        #expect(Funnel.render(result.manifest, directory: "out").contains("no record survived"))
    }

    @Test("a glob matching nothing is an error naming the source line; a file gone before reading fails the run")
    func missingFiles() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let error = try #require(throws: RefineryError.self) { try RunPlan.make(spec: try tinySpec(folder, glob: "nowhere/*.jsonl")) }
        #expect(error.message.contains("matched no files"))
        #expect(error.location?.line == 3)
        let path = try folder.write("in/a.jsonl", "{\"text\": \"soon to vanish\"}\n")
        let plan = try RunPlan.make(spec: try tinySpec(folder))
        try FileManager.default.removeItem(atPath: path)
        let gone = try #require(throws: RefineryError.self) { try Engine(plan: plan).run() }
        #expect(gone.code == .input)
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/out/manifest.json"))
    }

    @Test("split by id hash follows the validation fraction and is stable")
    func splitFraction() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        var lines = ""
        for i in 0..<2000 { lines += "{\"text\": \"document \(i) for the split test\"}\n" }
        try folder.write("in/a.jsonl", lines)
        let result = try run(try tinySpec(folder))
        let validation = result.manifest.splits["validation"]?.records ?? 0
        #expect(abs(Double(validation) / 2000 - 0.2) < 0.03)
        #expect(result.manifest.shards.filter { $0.split == "train" }.count > 1)
    }
}

/// A file system whose disk holds `capacity` bytes, then fails every write with ENOSPC.
final class FillingFileSystem: OutputFileSystem, @unchecked Sendable {
    private let real = POSIXFileSystem()
    private let lock = NSLock()
    private var left: Int

    init(capacity: Int) {
        self.capacity = capacity
        left = capacity
    }

    private let capacity: Int
    /// Bytes written so far.
    var used: Int { lock.withLock { capacity - left } }

    func create(_ path: String) throws -> any OutputFile { FillingFile(inner: try real.create(path), owner: self) }
    func rename(_ from: String, to: String) throws { try real.rename(from, to: to) }
    func remove(_ path: String) { real.remove(path) }
    func makeDirectory(_ path: String) throws { try real.makeDirectory(path) }

    func take(_ count: Int) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard count <= left else { return false }
        left -= count
        return true
    }

    final class FillingFile: OutputFile {
        let inner: any OutputFile
        let owner: FillingFileSystem
        init(inner: any OutputFile, owner: FillingFileSystem) {
            self.inner = inner
            self.owner = owner
        }
        func write(_ bytes: UnsafeRawBufferPointer) throws {
            guard owner.take(bytes.count) else {
                throw RefineryError(.output, "write failed: No space left on device")
            }
            try inner.write(bytes)
        }
        func close() throws { try inner.close() }
    }
}
