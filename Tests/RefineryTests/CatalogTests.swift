import Foundation
@testable import RefineryCatalog
import RefineryRecords
import RefineryTraining
import Testing

/// A run start with every field filled, for tests.
func runStart(dataset: String = "tiny", version: String = "v1", output: String = "/data/out/v1") -> Catalog.RunStart {
    Catalog.RunStart(specName: "tiny", specHash: "00ff", specPath: "/data/tiny.yaml", dataset: dataset, version: version,
                     outputDirectory: output, host: "test-host", refineryVersion: "0.2.0", command: "refinery run tiny.yaml", pid: 4242)
}

/// Collects failures from several threads.
final class ThreadFailures: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [String] = []

    func add(_ message: String) { lock.withLock { messages.append(message) } }
    var all: [String] { lock.withLock { messages } }
}

@Suite struct CatalogTests {
    /// The `migrations` rows of a catalog, in version order.
    static func migrations(_ catalog: Catalog) throws -> [String] {
        try catalog.database.query("SELECT version, name FROM migrations ORDER BY version") { "\($0.int(0)) \($0.text(1))" }
    }

    static func userVersion(_ catalog: Catalog) throws -> Int {
        try catalog.database.query("PRAGMA user_version") { $0.int(0) }[0]
    }

    @Test("a new catalog records every migration in order; opening it again applies nothing")
    func migrationsRecorded() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let path = folder.path + "/deep/er/catalog.sqlite"
        let expected = Migration.all.map { "\($0.version) \($0.name)" }
        #expect(expected == ["1 create_runs", "2 create_units", "3 create_dataset_versions", "4 create_training_runs", "5 create_submissions", "6 submission_phases"])
        let stamps: [String]
        do {
            let catalog = try Catalog(path: path)
            #expect(try Self.migrations(catalog) == expected)
            #expect(try Self.userVersion(catalog) == Catalog.schemaVersion)
            stamps = try catalog.database.query("SELECT applied_at || refinery_version FROM migrations ORDER BY version") { $0.text(0) }
        }
        let again = try Catalog(path: path)
        #expect(try Self.migrations(again) == expected)
        #expect(try again.database.query("SELECT applied_at || refinery_version FROM migrations ORDER BY version") { $0.text(0) } == stamps)
    }

    @Test("a catalog with only the first migration opens, keeps its rows and is upgraded")
    func oldCatalogUpgraded() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let path = folder.path + "/catalog.sqlite"
        let id: Int64
        do {
            let old = try Catalog(path: path, mode: .create, migratingThrough: 1)
            #expect(try Self.migrations(old) == ["1 create_runs"])
            id = try old.beginRun(runStart())
        }
        let upgraded = try Catalog(path: path)
        #expect(try Self.migrations(upgraded).count == Catalog.schemaVersion)
        #expect(try Self.userVersion(upgraded) == Catalog.schemaVersion)
        #expect(try upgraded.run(id: id)?.status == .running)
        try upgraded.recordVersion(dataset: "tiny", version: "v1", manifestPath: "/data/out/v1/manifest.json", manifestHash: "ab", runID: id)
        #expect(try upgraded.version(dataset: "tiny", version: "v1")?.status == .candidate)
    }

    @Test("a catalog from a newer Refinery is refused, read-write and read-only, and its bytes are unchanged")
    func newerRefused() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let path = folder.path + "/catalog.sqlite"
        do {
            _ = try Catalog(path: path)
            let raw = try Database(path: path, mode: .readWrite)
            try raw.run("INSERT INTO migrations (version, name, applied_at, refinery_version) VALUES (99, 'from_the_future', 'x', '9.0.0')")
            try raw.execute("PRAGMA user_version = 99")
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        for open in [{ _ = try Catalog(path: path) }, { _ = try Catalog.openExisting(path: path) }, { _ = try Catalog.openReadOnly(path: path) }] {
            let error = try #require(throws: RefineryError.self) { try open() }
            #expect(error.code == .catalog)
            #expect(error.description == "\(path): catalog was written by a newer Refinery (schema 99, this one knows \(Catalog.schemaVersion)); "
                + "upgrade Refinery or point `catalog:` elsewhere")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }

    @Test("a file that is not a catalog is refused, named, and left byte for byte", arguments: ["garbage", "damaged", "foreign"])
    func notACatalog(kind: String) throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let path = folder.path + "/catalog.sqlite"
        switch kind {
        case "garbage":
            try folder.write("catalog.sqlite", Array(repeating: "not a database at all\n", count: 500).joined())
        case "damaged":
            do { _ = try Catalog(path: path) }
            var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            // Page 2 onwards holds the tables' b-trees.
            bytes.replaceSubrange(4096..<8192, with: Data(repeating: 0xA5, count: 4096))
            try bytes.write(to: URL(fileURLWithPath: path))
        default:
            let raw = try Database(path: path, mode: .create)
            try raw.execute("CREATE TABLE recipes (name TEXT)")
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let error = try #require(throws: RefineryError.self) { _ = try Catalog(path: path) }
        #expect(error.code == .catalog)
        #expect(error.description.hasPrefix("\(path): "))
        #expect(error.message.contains("left untouched"))
        #expect(error.location?.file == path)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }

    @Test("the query commands' opening never creates a catalog")
    func openExistingNeverCreates() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let path = folder.path + "/none/catalog.sqlite"
        for open in [{ _ = try Catalog.openExisting(path: path) }, { _ = try Catalog.openReadOnly(path: path) }] {
            let error = try #require(throws: RefineryError.self) { try open() }
            #expect(error.code == .usage)
            #expect(error.message.contains("no catalog at \(path); run `refinery run` first"))
        }
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/none"))
    }

    @Test("the catalog is in WAL mode with foreign keys on, and a read-only catalog refuses writes")
    func pragmas() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let path = folder.path + "/catalog.sqlite"
        let catalog = try Catalog(path: path)
        #expect(try catalog.database.query("PRAGMA journal_mode") { $0.text(0) } == ["wal"])
        #expect(try catalog.database.query("PRAGMA foreign_keys") { $0.int(0) } == [1])
        let error = try #require(throws: RefineryError.self) {
            try catalog.database.run("INSERT INTO stage_stats (run_id, position, stage, records_in, records_out, dropped, bytes_in, bytes_out, seconds) "
                + "VALUES (77, 0, 'read', 0, 0, '{}', 0, 0, 0)")
        }
        #expect(error.message.contains("FOREIGN KEY"))
        let id = try catalog.beginRun(runStart())
        let reader = try Catalog.openReadOnly(path: path)
        #expect(try reader.run(id: id)?.host == "test-host")
        #expect(throws: RefineryError.self) { _ = try reader.beginRun(runStart()) }
    }

    @Test("two catalogs create, migrate and write one file at the same time without losing a row")
    func concurrentWriters() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let path = folder.path + "/catalog.sqlite"
        let failures = ThreadFailures()
        DispatchQueue.concurrentPerform(iterations: 2) { writer in
            do {
                let catalog = try Catalog(path: path)
                let run = try catalog.beginRun(runStart(output: "/data/out/shared"))
                for unit in 0..<40 {
                    try catalog.commitUnit(Catalog.UnitRecord(outputDirectory: "/data/out/shared", specHash: "00ff", key: "w\(writer)-u\(unit)",
                                                              file: "f\(unit)", fileXXH3: "aa", runID: run, batches: 1, records: 2, bytes: 3))
                }
                try catalog.finishRun(run, status: .succeeded, error: nil, summary: nil, read: 1, written: 1, quarantined: 0, stages: [])
            } catch {
                failures.add("writer \(writer): \(error)")
            }
        }
        #expect(failures.all.isEmpty)
        let catalog = try Catalog(path: path)
        #expect(try catalog.committedUnits(outputDirectory: "/data/out/shared").count == 80)
        #expect(try catalog.runs().map(\.status) == [.succeeded, .succeeded])
    }

    @Test("a run's start, end, stage statistics and interruption are recorded")
    func runLifecycle() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let catalog = try Catalog(path: folder.path + "/catalog.sqlite")
        let first = try catalog.beginRun(runStart())
        #expect(try catalog.runningRun(dataset: "tiny")?.id == first)
        let stages = [
            Catalog.StageStat(stage: "read", recordsIn: 10, recordsOut: 9, bytesIn: 100, bytesOut: 90, dropped: ["invalid_json": 1], seconds: 0.5),
            Catalog.StageStat(stage: "validate", recordsIn: 9, recordsOut: 7, bytesIn: 90, bytesOut: 70, dropped: ["too_short": 2], seconds: 0.25),
        ]
        try catalog.finishRun(first, status: .succeeded, error: nil, summary: "{\"ok\":true}", read: 10, written: 7, quarantined: 3, stages: stages)
        let done = try #require(try catalog.run(id: first))
        #expect(done.status == .succeeded && done.endedAt != nil && done.summary == "{\"ok\":true}")
        #expect((done.recordsRead, done.recordsWritten, done.recordsQuarantined) == (10, 7, 3))
        #expect(done.pid == 4242 && done.command == "refinery run tiny.yaml")
        #expect(try catalog.stageStats(runID: first) == stages)
        #expect(try catalog.lastSucceeded(dataset: "tiny")?.id == first)
        #expect(try catalog.runningRun(dataset: "tiny") == nil)

        let killed = try catalog.beginRun(runStart(version: "v2"))
        let elsewhere = try catalog.beginRun(runStart(dataset: "other"))
        let interrupted = try catalog.interruptStaleRuns(dataset: "tiny")
        #expect(interrupted.map(\.id) == [killed])
        #expect(interrupted.first?.error?.contains("process 4242 on test-host") == true)
        #expect(try catalog.run(id: killed)?.status == .interrupted)
        #expect(try catalog.run(id: elsewhere)?.status == .running)
        #expect(try catalog.lastSucceeded(dataset: "tiny")?.id == first)
        #expect(try catalog.runs(limit: 2).map(\.id) == [elsewhere, killed])
        #expect(throws: RefineryError.self) {
            try catalog.finishRun(999, status: .failed, error: "x", summary: nil, read: 0, written: 0, quarantined: 0, stages: [])
        }
    }

    @Test("committed units are replaced by key, listed per folder and discarded per folder")
    func units() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let catalog = try Catalog(path: folder.path + "/catalog.sqlite")
        let run = try catalog.beginRun(runStart())
        func unit(_ dir: String, _ key: String, records: Int) -> Catalog.UnitRecord {
            Catalog.UnitRecord(outputDirectory: dir, specHash: "00ff", key: key, file: "\(key).part", fileXXH3: "x\(records)", runID: run,
                               batches: 1, records: records, bytes: records * 10)
        }
        try catalog.commitUnit(unit("/out/a", "src/1", records: 5))
        try catalog.commitUnit(unit("/out/a", "src/2", records: 6))
        try catalog.commitUnit(unit("/out/b", "src/1", records: 7))
        try catalog.commitUnit(unit("/out/a", "src/1", records: 8))
        #expect(try catalog.committedUnits(outputDirectory: "/out/a") == [unit("/out/a", "src/1", records: 8), unit("/out/a", "src/2", records: 6)])
        try catalog.discardUnits(outputDirectory: "/out/a")
        #expect(try catalog.committedUnits(outputDirectory: "/out/a").isEmpty)
        #expect(try catalog.committedUnits(outputDirectory: "/out/b") == [unit("/out/b", "src/1", records: 7)])
    }

    @Test("published inputs are those of runs that produced a recorded version of the dataset, first version wins")
    func publishedInputs() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let catalog = try Catalog(path: folder.path + "/catalog.sqlite")
        func input(_ hash: String) -> Catalog.InputRecord {
            Catalog.InputRecord(source: "src", path: "in/\(hash).jsonl", size: 10, mtime: 1_700_000_000.5, xxh3: hash)
        }
        let first = try catalog.beginRun(runStart(version: "v1"))
        try catalog.recordInputs(runID: first, [input("a"), input("b")])
        try catalog.recordVersion(dataset: "tiny", version: "v1", manifestPath: "/o/v1/manifest.json", manifestHash: "1", runID: first)
        let second = try catalog.beginRun(runStart(version: "v2"))
        try catalog.recordInputs(runID: second, [input("b"), input("c")])
        try catalog.recordVersion(dataset: "tiny", version: "v2", manifestPath: "/o/v2/manifest.json", manifestHash: "2", runID: second)
        let failed = try catalog.beginRun(runStart(version: "v3"))
        try catalog.recordInputs(runID: failed, [input("d")])
        let other = try catalog.beginRun(runStart(dataset: "other"))
        try catalog.recordInputs(runID: other, [input("e")])
        try catalog.recordVersion(dataset: "other", version: "v1", manifestPath: "/p/manifest.json", manifestHash: "3", runID: other)

        let key = { Catalog.publishedKey(source: "src", xxh3: $0) }
        #expect(try catalog.publishedInputs(dataset: "tiny") == [key("a"): "v1", key("b"): "v1", key("c"): "v2"])
        #expect(try catalog.inputs(runID: first) == [input("a"), input("b")])
    }

    @Test("recording a version again takes the new manifest, hash and run; its status stays unless its manifest changed")
    func recordVersionAgain() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let catalog = try Catalog(path: folder.path + "/catalog.sqlite")
        let first = try catalog.beginRun(runStart())
        try catalog.recordVersion(dataset: "tiny", version: "v1", manifestPath: "/o/v1/manifest.json", manifestHash: "1", runID: first)
        try catalog.database.run("UPDATE dataset_versions SET status = 'production'")
        let rebuilt = try catalog.beginRun(runStart())
        try catalog.recordVersion(dataset: "tiny", version: "v1", manifestPath: "/n/v1/manifest.json", manifestHash: "1", runID: rebuilt)
        var record = try #require(try catalog.version(dataset: "tiny", version: "v1"))
        #expect(record.status == .production)
        #expect((record.manifestPath, record.manifestHash, record.runID) == ("/n/v1/manifest.json", "1", rebuilt))
        #expect(try catalog.history(dataset: "tiny").map(\.to) == [.candidate])
        // Other content under the same (pinned) label goes back through the gates.
        try catalog.recordVersion(dataset: "tiny", version: "v1", manifestPath: "/n/v1/manifest.json", manifestHash: "2", runID: rebuilt)
        record = try #require(try catalog.version(dataset: "tiny", version: "v1"))
        #expect(record.status == .candidate && record.manifestHash == "2")
        #expect(try catalog.history(dataset: "tiny").map(\.to) == [.candidate, .candidate])
        #expect(try catalog.version(dataset: "tiny", version: "v9") == nil)
    }

    @Test("training runs are recorded with their datasets, checkpoints and metrics, and found by the version they used")
    func trainingRuns() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let catalog = try Catalog(path: folder.path + "/catalog.sqlite")
        let start = Catalog.TrainingRunStart(datasets: ["tiny@v1", "other@v3"], configPath: "/c.yaml", configHash: "cafe", outputDirectory: "/t")
        let first = try catalog.beginTrainingRun(start)
        try catalog.finishTrainingRun(first, status: .succeeded, error: nil, checkpoints: ["/t/checkpoints/step-00000010"],
                                      finalMetrics: ["loss": 2.5, "steps": 10])
        let second = try catalog.beginTrainingRun(Catalog.TrainingRunStart(datasets: ["tiny@v2"], configPath: "/c.yaml", configHash: "cafe",
                                                                           outputDirectory: "/u"))
        try catalog.finishTrainingRun(second, status: .failed, error: "no data", checkpoints: [], finalMetrics: nil)
        let used = try catalog.trainingRuns(using: "tiny@v1")
        #expect(used.map(\.id) == [first])
        #expect(used.first?.datasets == ["tiny@v1", "other@v3"])
        #expect(used.first?.finalMetrics == ["loss": 2.5, "steps": 10])
        #expect(used.first?.checkpoints == ["/t/checkpoints/step-00000010"])
        #expect(try catalog.trainingRuns().map(\.status) == [.failed, .succeeded])
    }

    @Test("a training configuration's catalog key resolves against its folder and does not change its hash")
    func trainingConfigCatalog() throws {
        let yaml = """
            name: t
            output: out/train
            data: {datasets: [{path: out/demo}], tokenizer: out/tok}
            model: {layers: 1, heads: 1, width: 8, context: 8}
            """
        let plain = try TrainingConfig.parse(yaml: yaml, file: "t.yaml", baseDirectory: "/data/project")
        let recorded = try TrainingConfig.parse(yaml: yaml + "\ncatalog: ../db/catalog.sqlite", file: "t.yaml", baseDirectory: "/data/project")
        #expect(plain.catalog == nil)
        #expect(recorded.catalog == "/data/db/catalog.sqlite")
        #expect(recorded.hash == plain.hash)
    }
}
