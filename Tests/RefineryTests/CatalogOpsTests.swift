import Foundation
@testable import RefineryCatalog
import RefineryCodecs
import RefineryPipeline
import RefineryRecords
import RefineryShards
import RefinerySpec
import Testing

/// Dataset versions written by the real engine into a temporary folder and recorded in its catalog, as a run
/// will record them: `out/<version>/` and `out/catalog.sqlite`.
struct CatalogFixture {
    let folder: TemporaryFolder
    var catalogPath: String { folder.path + "/out/catalog.sqlite" }

    init() throws {
        folder = try TemporaryFolder("refinery-catalog")
    }

    func catalog() throws -> Catalog { try Catalog(path: catalogPath) }

    /// Runs the engine on `categories` (records per category) plus `short` records validation drops; the engine
    /// records the run and the version.
    /// - Parameters:
    ///   - gates: the spec's `gates:` block, as YAML lines.
    ///   - dir: the output folder relative to the temporary folder (`out/<version>` by default).
    @discardableResult
    func build(_ version: String, categories: [String: Int], short: Int = 0, validationFraction: Double = 0.2, gates: String = "",
               dir: String? = nil, force: Bool = false) throws -> VersionRecord {
        var lines: [String] = []
        for (category, count) in categories.sorted(by: { $0.key < $1.key }) {
            for n in 0..<count { lines.append("{\"text\": \"record \(n) of category \(category) in \(version)\", \"category\": \"\(category)\"}") }
        }
        for n in 0..<short { lines.append("{\"text\": \"s\(n)\", \"category\": \"short\"}") }
        try folder.write("in/\(version)/data.jsonl", lines.joined(separator: "\n") + "\n")
        let spec = try PipelineSpec.parse(yaml: """
            name: tiny
            sources:
              - name: src
                kind: jsonl
                glob: in/\(version)/*.jsonl
            stages:
              - validate: {min_chars: 5}
            output: {dir: \(dir ?? "out/\(version)"), dataset: tiny, version: \(version), validation_fraction: \(validationFraction)}
            \(gates)
            """, file: folder.path + "/tiny-\(version).yaml", baseDirectory: folder.path)
        let result = try Engine(plan: try RunPlan.make(spec: spec), options: RunOptions(workers: 1, force: force)).run()
        // The engine records the run, its inputs and the version in the catalog beside `out/`.
        #expect(result.runID > 0)
        let catalog = try catalog()
        return try #require(try catalog.version(dataset: "tiny", version: version))
    }
}

@Suite struct CatalogOpsTests {
    static let passingGates = """
        gates:
          min_records: {train: 10, validation: 1}
          max_drop_rate: {validate: 0.2, "*": 0.5}
          max_share_change: 0.2
          min_validation_fraction: 0.05
        """

    @Test("promotion checks the gates, makes the version production and retires the one before")
    func promoteAndRetire() throws {
        let fixture = try CatalogFixture()
        defer { fixture.folder.cleanup() }
        try fixture.build("v1", categories: ["a": 50, "b": 50], gates: Self.passingGates)
        let catalog = try fixture.catalog()
        let first = try catalog.promote(dataset: "tiny", version: "v1", command: "refinery promote tiny@v1")
        #expect(first.promoted.status == .production && first.retired == nil && !first.alreadyProduction)
        #expect(first.gates.map(\.gate) == ["min_records.train", "min_records.validation", "max_drop_rate.read", "max_drop_rate.validate",
                                            "max_share_change", "min_validation_fraction"])
        #expect(first.gates.allSatisfy { $0.passed })
        #expect(first.gates.first { $0.gate == "max_share_change" }?.note == "no production version yet, so this gate passes")

        try fixture.build("v2", categories: ["a": 55, "b": 45], gates: Self.passingGates)
        let second = try catalog.promote(dataset: "tiny", version: "v2")
        #expect(second.retired?.label == "tiny@v1" && second.retired?.status == .retired)
        #expect(try catalog.production(dataset: "tiny")?.version == "v2")
        #expect(try catalog.history(dataset: "tiny", version: "v1").map(\.to) == [.candidate, .production, .retired])
        #expect(try catalog.history(dataset: "tiny", version: "v1")[1].command == "refinery promote tiny@v1")
        #expect(try catalog.promote(dataset: "tiny", version: "v2").alreadyProduction)
    }

    @Test("a failing gate refuses promotion, naming the gate, the value measured and the limit", arguments: [
        ("min_records: {train: 1000}", [String: Int](), 0.2, ["min_records.train"], "limit at least 1000"),
        ("max_drop_rate: {validate: 0.2}", ["short": 30], 0.2, ["max_drop_rate.validate"], "30.0 % dropped (30 of 100), limit at most 20.0 %"),
        ("max_drop_rate: {\"*\": 0.1}", ["short": 30], 0.2, ["max_drop_rate.validate"], "limit at most 10.0 %"),
        ("min_validation_fraction: 0.05", [:], 0, ["min_validation_fraction"], "0.0 % (0 of 70 written), limit at least 5.0 %"),
        ("min_records: {validation: 1}\n  min_validation_fraction: 0.05", [:], 0, ["min_records.validation", "min_validation_fraction"], "0 records"),
    ] as [(String, [String: Int], Double, [String], String)])
    func failingGate(gate: String, extra: [String: Int], validationFraction: Double, failing: [String], text: String) throws {
        let fixture = try CatalogFixture()
        defer { fixture.folder.cleanup() }
        try fixture.build("v1", categories: ["a": 35, "b": 35], short: extra["short"] ?? 0, validationFraction: validationFraction,
                          gates: "gates:\n  \(gate)")
        let catalog = try fixture.catalog()
        let refused = try #require(throws: PromotionRefused.self) { _ = try catalog.promote(dataset: "tiny", version: "v1") }
        #expect(refused.failed.map(\.gate) == failing)
        #expect(refused.description.contains(text), "\(refused)")
        #expect(try catalog.version(dataset: "tiny", version: "v1")?.status == .candidate)
    }

    @Test("a category share that moved more than max_share_change against production refuses promotion")
    func shareChange() throws {
        let fixture = try CatalogFixture()
        defer { fixture.folder.cleanup() }
        let gates = "gates:\n  max_share_change: 0.1"
        try fixture.build("v1", categories: ["a": 50, "b": 50], gates: gates)
        try fixture.build("v2", categories: ["a": 90, "b": 10], gates: gates)
        let catalog = try fixture.catalog()
        _ = try catalog.promote(dataset: "tiny", version: "v1")
        let refused = try #require(throws: PromotionRefused.self) { _ = try catalog.promote(dataset: "tiny", version: "v2") }
        let result = try #require(refused.failed.first)
        #expect(result.gate == "max_share_change")
        #expect(result.measured == "40.0 points for category 'a'" || result.measured == "40.0 points for category 'b'")
        #expect(result.note == "50.0 % in tiny@v1 → 90.0 % here" || result.note == "50.0 % in tiny@v1 → 10.0 % here")
        #expect(try catalog.production(dataset: "tiny")?.version == "v1")
    }

    @Test("a manifest edited by hand, or a shard that does not match it, refuses promotion as an integrity error")
    func integrity() throws {
        let fixture = try CatalogFixture()
        defer { fixture.folder.cleanup() }
        let edited = try fixture.build("v1", categories: ["a": 20])
        var text = try String(contentsOfFile: edited.manifestPath, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"dataset\" : \"tiny\"", with: "\"dataset\" : \"tiny\" ")
        try text.write(toFile: edited.manifestPath, atomically: true, encoding: .utf8)
        let catalog = try fixture.catalog()
        let error = try #require(throws: RefineryError.self) { _ = try catalog.promote(dataset: "tiny", version: "v1") }
        #expect(error.code == .integrity)
        let hash = XXH3.hex(XXH3.hash(Array(text.utf8)))
        #expect(error.message.contains("manifest.json was changed after the run wrote it (hash \(hash), catalog has \(edited.manifestHash)); "
            + "promotion refused"))

        let damaged = try fixture.build("v2", categories: ["a": 20])
        let shard = damaged.directory + "/" + (try Manifest.read(directory: damaged.directory)).shards[0].file
        var bytes = try Data(contentsOf: URL(fileURLWithPath: shard))
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: shard))
        let shardError = try #require(throws: RefineryError.self) { _ = try catalog.promote(dataset: "tiny", version: "v2") }
        #expect(shardError.code == .integrity && shardError.message.contains("do not match the manifest"))
        #expect(try catalog.production(dataset: "tiny") == nil)

        let unknown = try #require(throws: RefineryError.self) { _ = try catalog.promote(dataset: "tiny", version: "v9") }
        #expect(unknown.code == .usage && unknown.message.contains("no version 'v9' of tiny; it has: v2 (candidate), v1 (candidate)"))
    }

    @Test("rollback restores the previous production version and refuses when there is none")
    func rollback() throws {
        let fixture = try CatalogFixture()
        defer { fixture.folder.cleanup() }
        try fixture.build("v1", categories: ["a": 20])
        try fixture.build("v2", categories: ["a": 21])
        let catalog = try fixture.catalog()
        #expect(throws: RefineryError.self) { _ = try catalog.rollback(dataset: "tiny") }
        _ = try catalog.promote(dataset: "tiny", version: "v1")
        let first = try #require(throws: RefineryError.self) { _ = try catalog.rollback(dataset: "tiny") }
        #expect(first.message.contains("tiny@v1 is the first production version of tiny; there is none before it"))
        _ = try catalog.promote(dataset: "tiny", version: "v2")
        let rollback = try catalog.rollback(dataset: "tiny", command: "refinery rollback tiny")
        #expect(rollback.restored.label == "tiny@v1" && rollback.restored.status == .production)
        #expect(rollback.retired.label == "tiny@v2" && rollback.retired.status == .retired)
        #expect(try catalog.production(dataset: "tiny")?.version == "v1")
        #expect(try catalog.history(dataset: "tiny", version: "v1").map(\.to) == [.candidate, .production, .retired, .production])
    }

    @Test("a candidate that drops or loosens the gates still meets production's")
    func productionGatesApply() throws {
        let fixture = try CatalogFixture()
        defer { fixture.folder.cleanup() }
        try fixture.build("v1", categories: ["a": 40], gates: "gates:\n  min_records: {train: 20}")
        try fixture.build("v2", categories: ["a": 5])
        let catalog = try fixture.catalog()
        _ = try catalog.promote(dataset: "tiny", version: "v1")
        let refused = try #require(throws: PromotionRefused.self) { _ = try catalog.promote(dataset: "tiny", version: "v2") }
        #expect(refused.failed.map(\.gate) == ["tiny@v1 gate min_records.train"])
        #expect(try catalog.production(dataset: "tiny")?.version == "v1")
    }

    @Test("a second rollback goes further back, not back to the version the first one rolled back")
    func rollbackTwice() throws {
        let fixture = try CatalogFixture()
        defer { fixture.folder.cleanup() }
        for (n, version) in ["v1", "v2", "v3"].enumerated() { try fixture.build(version, categories: ["a": 20 + n]) }
        let catalog = try fixture.catalog()
        for version in ["v1", "v2", "v3"] { _ = try catalog.promote(dataset: "tiny", version: version) }
        #expect(try catalog.rollback(dataset: "tiny").restored.version == "v2")
        #expect(try catalog.rollback(dataset: "tiny").restored.version == "v1")
        let bottom = try #require(throws: RefineryError.self) { _ = try catalog.rollback(dataset: "tiny") }
        #expect(bottom.message.contains("tiny@v1 is the first production version"))
        // Promoting again pushes: the next rollback returns to v1.
        _ = try catalog.promote(dataset: "tiny", version: "v3")
        #expect(try catalog.rollback(dataset: "tiny").restored.version == "v1")
    }

    @Test("gc keeps the newest retired versions, never touches production or candidates, and --dry-run changes nothing")
    func gc() throws {
        let fixture = try CatalogFixture()
        defer { fixture.folder.cleanup() }
        for (n, version) in ["v1", "v2", "v3", "v4"].enumerated() { try fixture.build(version, categories: ["a": 20 + n]) }
        let catalog = try fixture.catalog()
        for version in ["v1", "v2", "v3"] { _ = try catalog.promote(dataset: "tiny", version: version) }
        let out = fixture.folder.path + "/out"
        let before = try folderContents(out, excluding: ["catalog.sqlite", "catalog.sqlite-wal", "catalog.sqlite-shm"])

        let dry = try catalog.gc(dataset: "tiny", keep: 1, dryRun: true)
        #expect(dry.kept.map(\.version) == ["v2"])
        #expect(dry.removed.map(\.version.version) == ["v1"])
        #expect(dry.removed[0].files.first == "manifest.json" && dry.removed[0].files.contains("stats.json") && dry.removed[0].folderRemoved)
        #expect(try folderContents(out, excluding: ["catalog.sqlite", "catalog.sqlite-wal", "catalog.sqlite-shm"]) == before)
        #expect(try catalog.version(dataset: "tiny", version: "v1")?.filesRemovedAt == nil)

        let done = try catalog.gc(dataset: "tiny", keep: 1)
        #expect(done.removed.map(\.version.version) == ["v1"] && done.removed[0].version.filesRemovedAt != nil)
        #expect(!FileManager.default.fileExists(atPath: out + "/v1"))
        for version in ["v2", "v3", "v4"] {
            #expect(try catalog.verifiedManifest(try #require(try catalog.version(dataset: "tiny", version: version)), for: "test").version == version)
        }
        let everything = try catalog.gc(dataset: "tiny", keep: 0)
        #expect(everything.removed.map(\.version.version) == ["v2"])
        #expect(try catalog.versions(dataset: "tiny").map(\.status) == [.candidate, .production, .retired, .retired])
        #expect(FileManager.default.fileExists(atPath: out + "/v3/manifest.json") && FileManager.default.fileExists(atPath: out + "/v4/manifest.json"))

        let promote = try #require(throws: RefineryError.self) { _ = try catalog.promote(dataset: "tiny", version: "v1") }
        #expect(promote.message.contains("`refinery gc` removed its files"))
        _ = try catalog.promote(dataset: "tiny", version: "v4")
        #expect(try catalog.gc(dataset: "tiny", keep: 0).removed.map(\.version.version) == ["v3"])
        let rollback = try #require(throws: RefineryError.self) { _ = try catalog.rollback(dataset: "tiny") }
        #expect(rollback.message.contains("cannot roll back to tiny@v3: `refinery gc` removed its files"))
        #expect(try catalog.production(dataset: "tiny")?.version == "v4")
    }

    @Test("--force over a fixed folder marks the version it replaced; gc leaves a folder that holds another version alone")
    func gcFixedFolder() throws {
        let fixture = try CatalogFixture()
        defer { fixture.folder.cleanup() }
        try fixture.build("v1", categories: ["a": 20], dir: "out/fixed")
        try fixture.build("v2", categories: ["a": 25])
        let catalog = try fixture.catalog()
        _ = try catalog.promote(dataset: "tiny", version: "v1")
        // While v1 is production, --force over its folder is refused.
        #expect(throws: RefineryError.self) { try fixture.build("v3", categories: ["a": 30], dir: "out/fixed", force: true) }
        _ = try catalog.promote(dataset: "tiny", version: "v2")
        try fixture.build("v3", categories: ["a": 30], dir: "out/fixed", force: true)
        #expect(try catalog.version(dataset: "tiny", version: "v1")?.filesRemovedAt != nil, "the run marks the version it replaced")
        #expect(try catalog.gc(dataset: "tiny", keep: 0).removed.isEmpty)
        // A catalog that did not know (the folder replaced by other means): gc still leaves the folder's files alone.
        try catalog.database.run("UPDATE dataset_versions SET files_removed_at = NULL WHERE version = 'v1'")
        let collection = try catalog.gc(dataset: "tiny", keep: 0)
        #expect(collection.removed.count == 1)
        #expect(collection.removed[0].files.isEmpty)
        #expect(collection.removed[0].note == "the folder now holds tiny@v3; its files were left alone")
        #expect(try catalog.version(dataset: "tiny", version: "v1")?.filesRemovedAt != nil)
        #expect(try Manifest.read(directory: fixture.folder.path + "/out/fixed").version == "v3")
    }

    @Test("a training run finds the catalog beside its dataset folder when that catalog lists the version")
    func locateForTraining() throws {
        let fixture = try CatalogFixture()
        defer { fixture.folder.cleanup() }
        let version = try fixture.build("v1", categories: ["a": 20])
        let manifest = try Manifest.read(directory: version.directory)
        #expect(try Catalog.locate(listing: manifest, in: version.directory)?.path == fixture.catalogPath)
        var other = manifest
        other.version = "v-unknown"
        #expect(try Catalog.locate(listing: other, in: version.directory) == nil)
    }

    // MARK: Spec

    static func spec(dir: String, extra: String = "") throws -> PipelineSpec {
        try PipelineSpec.parse(yaml: """
            name: demo
            sources:
              - name: chats
                kind: chat_jsonl
                glob: in/*.jsonl
            stages:
              - validate: {}
              - quality: {}
            output:
              dir: \(dir)
            \(extra)
            """, file: "t.yaml", baseDirectory: "/data/project/specs")
    }

    @Test("output.dir may hold {version} as one whole component; root is the folder above it and the catalog sits beside root",
          arguments: [
              ("../out/nightly/{version}", "/data/project/out/nightly/{version}", "/data/project/out/nightly", "/data/project/out/catalog.sqlite"),
              ("../out/demo", "/data/project/out/demo", "/data/project/out/demo", "/data/project/out/catalog.sqlite"),
              ("\"{version}\"", "/data/project/specs/{version}", "/data/project/specs", "/data/project/catalog.sqlite"),
              ("/abs/{version}/data", "/abs/{version}/data", "/abs", "/catalog.sqlite"),
          ])
    func versionPlaceholder(dir: String, directory: String, root: String, catalog: String) throws {
        let spec = try Self.spec(dir: dir)
        #expect(spec.output.directory == directory)
        #expect(spec.output.root == root)
        #expect(spec.catalogPath == catalog)
    }

    @Test("a {version} that is part of a component, repeated, or unquoted at the start is a located spec error", arguments: [
        ("out/v{version}", "whole path component"),
        ("out/{version}/{version}", "may appear once"),
        ("{version}", "quote it"),
        ("out/{version}/..", "put '{version}' last"),
    ])
    func versionPlaceholderErrors(dir: String, message: String) throws {
        let error = try #require(throws: RefineryError.self) { _ = try Self.spec(dir: dir) }
        #expect(error.code == .spec)
        #expect(error.message.hasPrefix("output.dir: "))
        #expect(error.message.contains(message), "\(error)")
        #expect(error.location?.line == 10)
    }

    @Test("gates are read from the spec, strict about keys, stage names and fractions", arguments: [
        ("gates:\n  min_record: {train: 5}", 12, "unknown key 'min_record' (did you mean 'min_records'?)"),
        ("gates:\n  min_records: {tain: 5}", 12, "unknown key 'tain' (did you mean 'train'?)"),
        ("gates:\n  max_drop_rate: {toxicity: 0.1}", 12, "no stage 'toxicity' in this spec; use one of read, validate, quality, *"),
        ("gates:\n  max_share_change: 1.5", 12, "must be a fraction between 0 and 1, found 1.5"),
    ])
    func gateErrors(gates: String, line: Int, message: String) throws {
        let error = try #require(throws: RefineryError.self) { _ = try Self.spec(dir: "out", extra: gates) }
        #expect(error.code == .spec)
        #expect(error.message.contains(message), "\(error)")
        #expect(error.location?.file == "t.yaml" && error.location?.line == line)
    }

    @Test("declared gates are parsed, and read back from a manifest's spec text alone")
    func gatesParsed() throws {
        let spec = try Self.spec(dir: "out", extra: Self.passingGates.replacingOccurrences(of: "validate: 0.2", with: "quality: 0.2"))
        let gates = try #require(spec.gates)
        #expect(gates.minRecords == ["train": 10, "validation": 1])
        #expect(gates.maxDropRate == ["quality": 0.2, "*": 0.5])
        #expect(gates.maxShareChange == 0.2 && gates.minValidationFraction == 0.05)
        #expect(try GatesSpec.read(specText: spec.text, file: "m") == gates)
        #expect(try GatesSpec.read(specText: "name: x\nfuture_key: 1\ngates: {max_share_change: 0.3}", file: "m")?.maxShareChange == 0.3)
        #expect(try Self.spec(dir: "out").gates == nil)
    }

    // MARK: CLI

    @Test("the CLI lists runs as JSON, exits 5 on a failing gate, 64 on an unknown version and 65 on a damaged catalog")
    func commandLine() throws {
        let fixture = try CatalogFixture()
        defer { fixture.folder.cleanup() }
        try fixture.build("v1", categories: ["a": 20], gates: "gates:\n  min_records: {train: 500}")
        let runs = try refinery(["runs", "--json", "--catalog", fixture.catalogPath])
        #expect(runs.status == 0, "\(runs.stderr)")
        let array = try #require(try JSONSerialization.jsonObject(with: Data(runs.stdout.utf8)) as? [[String: Any]])
        #expect(array.count == 1)
        #expect(array.first?["status"] as? String == "succeeded" && array.first?["records_written"] as? Int == 20)

        let promote = try refinery(["promote", "tiny@v1", "--catalog", fixture.catalogPath])
        #expect(promote.status == 5, "\(promote.stderr)")
        #expect(promote.stderr.contains("refused: 1 gate(s) failed"))
        #expect(promote.stderr.contains("min_records.train: ") && promote.stderr.contains(" records, limit at least 500: FAILED"))

        let unknown = try refinery(["show", "tiny@v9", "--catalog", fixture.catalogPath])
        #expect(unknown.status == 64 && unknown.stderr.contains("no version 'v9' of tiny"))

        let garbage = try fixture.folder.write("garbage.sqlite", "this is not SQLite")
        let damaged = try refinery(["datasets", "--catalog", garbage])
        #expect(damaged.status == 65 && damaged.stderr.contains("\(garbage): not a SQLite file"))
        #expect(try String(contentsOfFile: garbage, encoding: .utf8) == "this is not SQLite")
    }
}
