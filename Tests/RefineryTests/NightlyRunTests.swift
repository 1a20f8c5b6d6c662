import Foundation
import RefineryCatalog
import RefineryPipeline
import RefineryRecords
import RefineryShards
import RefinerySpec
import Testing

/// What a nightly job meets: resuming after `kill -9`, refusing to resume another spec's work, one run at a time,
/// inputs that change while being read, a disk that fills during a unit, incremental runs, a damaged catalog — with
/// the real binary and the real catalog where a user would meet them.
@Suite(.serialized) struct NightlyRunTests {
    /// A corpus of many small files (one work unit each) with duplicates across files and a bad line in each, and a
    /// spec running every stage over it, so that a debug build takes a few seconds and can be killed mid-run.
    struct Corpus {
        let folder: TemporaryFolder
        let spec: String
        let files: Int

        init(files: Int = 24, lines: Int = 60) throws {
            folder = try TemporaryFolder("refinery-resume")
            self.files = files
            let words = ["harbour", "lamp", "keeper", "quiet", "evening", "boats", "morning", "storm", "letters", "window",
                         "garden", "river", "bridge", "station", "winter", "summer", "kitchen", "market", "stairs", "music"]
            for file in 0..<files {
                var text = ""
                for line in 0..<lines {
                    if line == 7 { text += "{\"text\": broken json\n"; continue }
                    // Every 10th line repeats a line of the first file: exact duplicates across units.
                    let seed = line % 10 == 0 ? line : file * 1000 + line
                    var sentence: [String] = []
                    for k in 0..<18 { sentence.append(words[(seed * 7 + k * 13 + k * k) % words.count]) }
                    let body = "The \(sentence.joined(separator: " ")) number \(seed). It was a calm day by the water."
                    text += "{\"text\": \"\(body)\"}\n"
                }
                let source = file % 3 == 0 ? "stories" : "notes"
                try folder.write("in/\(source)/part-\(String(format: "%03d", file)).jsonl", text)
            }
            spec = try folder.write("spec.yaml", """
                name: resume
                sources:
                  - {name: notes, kind: jsonl, glob: in/notes/*.jsonl, category: notes, lang: en}
                  - {name: stories, kind: jsonl, glob: in/stories/*.jsonl, category: stories, lang: en}
                stages:
                  - validate: {min_chars: 20}
                  - pii: {}
                  - quality: {keep: 0.5}
                  - dedup: {}
                  - balance: {caps: {notes: 500}}
                output: {dir: out/ds, dataset: ds, shard_size: 8KiB}
                engine: {batch_records: 16}
                """)
        }

        var output: String { folder.path + "/out/ds" }

        /// Every file of the dataset folder but `stats.json` (timings), by relative path.
        func datasetFiles() throws -> [String: Data] {
            var files: [String: Data] = [:]
            for path in try FileManager.default.subpathsOfDirectory(atPath: output).sorted() where path != "stats.json" {
                var isFolder: ObjCBool = false
                _ = FileManager.default.fileExists(atPath: output + "/" + path, isDirectory: &isFolder)
                if !isFolder.boolValue { files[path] = try Data(contentsOf: URL(fileURLWithPath: output + "/" + path)) }
            }
            return files
        }

        /// Removes the dataset, the catalog and the dedup index: a machine that never ran this spec.
        func reset() {
            try? FileManager.default.removeItem(atPath: folder.path + "/out")
        }

        func committedUnits() throws -> Int {
            try Catalog.openReadOnly(path: folder.path + "/out/catalog.sqlite").committedUnits(outputDirectory: output).count
        }
    }

    /// Starts `refinery run` as a child process that freezes itself at `stop` (see `StopPoint`), and waits until
    /// it has: the caller then kills it exactly there.
    static func startStopped(_ arguments: [String], at stop: String) throws -> Process {
        let process = Process()
        process.executableURL = try refineryBinary()
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(["REFINERY_STOP_AT": stop]) { $1 }
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning && Date() < deadline {
            let stat = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8)) ?? ""
            // The state is the field after the command name in parentheses: T once it has stopped itself.
            if let close = stat.lastIndex(of: ")"), stat[close...].dropFirst(2).first == "T" { break }
            usleep(2_000)
        }
        return process
    }

    /// Kills a process with SIGKILL and waits for it; `true` when it was still there to kill.
    static func kill9(_ process: Process) -> Bool {
        let running = process.isRunning
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        return running && process.terminationReason == .uncaughtSignal
    }

    @Test("kill -9 at several points, then the same command: the dataset equals an uninterrupted run's, byte for byte")
    func killAndResume() throws {
        let corpus = try Corpus()
        defer { corpus.folder.cleanup() }
        let straight = try refinery(["run", corpus.spec, "--workers", "2"])
        #expect(straight.status == 0, "\(straight.stderr)")
        let expected = try corpus.datasetFiles()
        #expect(expected.keys.contains("manifest.json"))
        // Near duplicates (the same words, another number) make dedup measure candidate pairs on their spilled lines,
        // which a resumed run reads from the units the killed one committed.
        let stats = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: corpus.output + "/stats.json"))) as? [String: Any]
        #expect((stats?["dedup_verified_pairs"] as? Int ?? 0) > 0, "\(stats ?? [:])")
        #expect(!FileManager.default.fileExists(atPath: corpus.output + "/.work"), "a finished run removes its committed work")

        // Killed before any unit, after one, halfway, after every unit (in dedup or writing), and after the manifest
        // but before the catalog recorded the version.
        for stop in ["unit:0", "unit:1", "unit:\(corpus.files / 2)", "unit:\(corpus.files)", "manifest"] {
            corpus.reset()
            let process = try Self.startStopped(["run", corpus.spec, "--workers", "2"], at: stop)
            try #require(Self.kill9(process), "the run ended before it reached \(stop)")
            let committed = try corpus.committedUnits()
            let expectedUnits = stop.hasPrefix("unit:") ? Int(stop.dropFirst(5))! : corpus.files
            #expect(committed == expectedUnits, "killed at \(stop)")
            #expect(FileManager.default.fileExists(atPath: corpus.output + "/manifest.json") == (stop == "manifest"))

            let resumed = try refinery(["run", corpus.spec, "--workers", "1"])
            #expect(resumed.status == 0, "after a kill at \(stop): \(resumed.stderr)")
            if stop == "manifest" {
                #expect(resumed.stderr.contains("dataset already complete"), "\(resumed.stderr)")
            } else if committed > 0 {
                #expect(resumed.stderr.contains("resumed: \(committed) unit(s) taken from the interrupted run"), "\(resumed.stderr)")
            }
            let files = try corpus.datasetFiles()
            #expect(files.keys.sorted() == expected.keys.sorted(), "after a kill at \(stop)")
            for (name, bytes) in expected { #expect(files[name] == bytes, "\(name) differs after a kill at \(stop)") }
            // Whatever the kill left, the finished run leaves no committed work and lists the version.
            #expect(!FileManager.default.fileExists(atPath: corpus.folder.path + "/out/ds/.work"), "after a kill at \(stop)")
            #expect(try corpus.committedUnits() == 0)
            let catalog = corpus.folder.path + "/out/catalog.sqlite"
            let versions = try JSONSerialization.jsonObject(with: Data(try refinery(["datasets", "--catalog", catalog, "--json"]).stdout.utf8))
            #expect((versions as? [[String: Any]])?.map { $0["status"] as? String } == ["candidate"], "after a kill at \(stop)")
            let runs = try JSONSerialization.jsonObject(with: Data(try refinery(["runs", "--catalog", catalog, "--json"]).stdout.utf8))
            #expect((runs as? [[String: Any]])?.compactMap { $0["status"] as? String } == ["succeeded", "interrupted"],
                    "the killed run is marked interrupted, after a kill at \(stop)")
        }
    }

    @Test("SIGTERM stops a run at its next batch: exit 143, recorded as interrupted in the catalog and the metrics; the same command resumes")
    func sigterm() throws {
        let corpus = try Corpus(files: 8)
        defer { corpus.folder.cleanup() }
        let straight = try refinery(["run", corpus.spec, "--workers", "2"])
        #expect(straight.status == 0, "\(straight.stderr)")
        let expected = try corpus.datasetFiles()
        corpus.reset()
        let metrics = corpus.folder.path + "/refinery.prom"
        let process = try Self.startStopped(["run", corpus.spec, "--workers", "2", "--metrics", metrics], at: "unit:1")
        try #require(process.isRunning, "the run ended before it reached unit:1")
        kill(process.processIdentifier, SIGTERM)
        kill(process.processIdentifier, SIGCONT)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 143)
        #expect(!FileManager.default.fileExists(atPath: corpus.output + "/manifest.json"))
        let catalog = corpus.folder.path + "/out/catalog.sqlite"
        let runs = try JSONSerialization.jsonObject(with: Data(try refinery(["runs", "--catalog", catalog, "--json"]).stdout.utf8)) as? [[String: Any]]
        #expect(runs?.first?["status"] as? String == "interrupted")
        let reason = runs?.first?["error"] as? String ?? ""
        #expect(reason.contains("stopped by SIGTERM"), "\(runs ?? [])")
        let prom = try String(contentsOfFile: metrics, encoding: .utf8)
        #expect(prom.contains("status=\"interrupted\"} 1"), "\(prom)")

        let resumed = try refinery(["run", corpus.spec, "--workers", "1"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("resumed: "), "\(resumed.stderr)")
        #expect(try corpus.datasetFiles() == expected)
    }

    @Test("a changed spec refuses to resume another spec's work and says so; --restart starts over")
    func changedSpec() throws {
        let corpus = try Corpus(files: 12)
        defer { corpus.folder.cleanup() }
        let straight = try refinery(["run", corpus.spec])
        #expect(straight.status == 0, "\(straight.stderr)")
        let expected = try corpus.datasetFiles()
        corpus.reset()
        try #require(Self.kill9(try Self.startStopped(["run", corpus.spec], at: "unit:2")), "the run ended before 2 units")

        let original = try String(contentsOfFile: corpus.spec, encoding: .utf8)
        try original.replacingOccurrences(of: "keep: 0.5", with: "keep: 0.6").write(toFile: corpus.spec, atomically: true, encoding: .utf8)
        let refused = try refinery(["run", corpus.spec])
        #expect(refused.status == 64)
        #expect(refused.stderr.contains("another spec") && refused.stderr.contains("--restart"), "\(refused.stderr)")

        try original.write(toFile: corpus.spec, atomically: true, encoding: .utf8)
        let restarted = try refinery(["run", corpus.spec, "--restart"])
        #expect(restarted.status == 0, "\(restarted.stderr)")
        #expect(!restarted.stderr.contains("resumed: "))
        #expect(try corpus.datasetFiles() == expected)
    }

    @Test("a second run on the same dataset while one runs is refused, naming the running run; a killed run frees it")
    func concurrentRuns() throws {
        let corpus = try Corpus()
        defer { corpus.folder.cleanup() }
        // The first run holds the lock, frozen after one unit.
        let first = try Self.startStopped(["run", corpus.spec, "--workers", "1"], at: "unit:1")
        let second = try refinery(["run", corpus.spec])
        try #require(Self.kill9(first), "the first run ended before the second started")
        #expect(second.status == 75)
        #expect(second.stderr.contains("is being written by run 1 (pid \(first.processIdentifier)"), "\(second.stderr)")
        // The lock died with the process: the next run goes ahead and resumes.
        let third = try refinery(["run", corpus.spec])
        #expect(third.status == 0, "\(third.stderr)")
        #expect(third.stderr.contains("resumed: "))
    }

    @Test("an input that changes after it was fingerprinted fails its unit clearly; the next run reads the new content")
    func inputChangedWhileRead() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        try folder.write("in/a.jsonl", "{\"text\": \"the first file has enough words\"}\n")
        let changing = try folder.write("in/b.jsonl", "{\"text\": \"the second file has enough words\"}\n")
        let spec = try tinySpec(folder)
        let plan = try RunPlan.make(spec: spec)
        let handle = try #require(FileHandle(forWritingAtPath: changing))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"text\": \"a line appended while the run reads\"}\n".utf8))
        try handle.close()
        let error = try #require(throws: RefineryError.self) { try Engine(plan: plan).run() }
        #expect(error.code == .input)
        #expect(error.location?.file == changing)
        #expect(error.message.contains("changed while it was being read"))
        // The first file's unit was committed; the run again (new fingerprints) reuses it and reads the new b.
        let result = try run(spec)
        #expect(result.unitsReused == 1)
        #expect(result.manifest.totals.written == 3)
    }

    @Test("a disk that fills during a unit: that unit is not committed, and the next run redoes it and matches a clean run")
    func diskFullDuringUnit() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        for file in 0..<4 {
            var lines = ""
            for i in 0..<40 { lines += "{\"text\": \"file \(file) record \(i) with enough words to pass\"}\n" }
            try folder.write("in/\(file).jsonl", lines)
        }
        let spec = try tinySpec(folder)
        let disk = FillingFileSystem(capacity: .max)
        let clean = try run(spec, fileSystem: disk)
        let expected = try Data(contentsOf: URL(fileURLWithPath: folder.path + "/out/manifest.json"))
        #expect(clean.unitsReused == 0)
        // Disks of several sizes, shares of what a clean run writes: each fills somewhere else, before, during or
        // after some units were committed.
        var partial = 0
        for capacity in [0.04, 0.15, 0.3, 0.45, 0.6, 0.9].map({ Int(Double(disk.used) * $0) }) {
            for leftover in ["/out", "/catalog.sqlite", "/catalog.sqlite-wal", "/catalog.sqlite-shm", "/dedup-index"] {
                try? FileManager.default.removeItem(atPath: folder.path + leftover)
            }
            let error = try #require(throws: RefineryError.self) { try run(spec, fileSystem: FillingFileSystem(capacity: capacity)) }
            #expect(error.message.contains("No space left on device"))
            let work = (try? FileManager.default.contentsOfDirectory(atPath: folder.path + "/out/.work")) ?? []
            #expect(!work.contains { $0.hasSuffix(".tmp") }, "a unit being written when the disk filled is removed")
            let committed = try Catalog(path: folder.path + "/catalog.sqlite").committedUnits(outputDirectory: folder.path + "/out")
            if (1..<4).contains(committed.count) { partial += 1 }
            let resumed = try run(spec)
            #expect(resumed.unitsReused == committed.count)
            #expect(try Data(contentsOf: URL(fileURLWithPath: folder.path + "/out/manifest.json")) == expected, "disk of \(capacity) bytes")
        }
        #expect(partial >= 2, "the disk must fill between units in some of the runs")
    }

    @Test("--force keeps the dataset it replaces, intact and readable, until its own is written: a forced run that fails leaves it")
    func forceFailureKeepsDataset() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        func write(_ records: Int) throws {
            var lines = ""
            for i in 0..<records { lines += "{\"text\": \"record \(i) with enough words to pass the stage\"}\n" }
            try folder.write("in/a.jsonl", lines)
        }
        try write(300)
        let spec = try tinySpec(folder, stages: "- validate: {min_chars: 5}\n  - dedup: {}")
        let first = try run(spec)
        try write(400)
        // Every write of the forced run fails: the map cannot commit a unit, and nothing is ever renamed into place.
        let error = try #require(throws: RefineryError.self) { try run(spec, force: true, fileSystem: FillingFileSystem(capacity: 0)) }
        #expect(error.message.contains("No space left on device"))
        let kept = try Manifest.read(directory: folder.path + "/out")
        #expect(kept.version == first.manifest.version)
        for (entry, check) in try DatasetInspector().checkAll(kept, in: folder.path + "/out") {
            #expect(check.problems.isEmpty, "\(entry.file): \(check.problems)")
        }
        #expect(FileManager.default.fileExists(atPath: folder.path + "/dedup-index/tiny/\(first.manifest.version).idx"))
        #expect(try Catalog(path: folder.path + "/catalog.sqlite").version(dataset: "tiny", version: first.manifest.version)?.filesRemovedAt == nil)

        // Forced again with room on the disk: the new version replaces the old one, whose shards and index segment go.
        let second = try run(spec, force: true)
        #expect(second.manifest.version != first.manifest.version)
        #expect(second.manifest.totals.read == 400)
        let files = Set(try FileManager.default.subpathsOfDirectory(atPath: folder.path + "/out").filter { $0.hasSuffix(".jsonl.zst") })
        #expect(files == Set((second.manifest.shards + second.manifest.rejects).map(\.file)))
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/dedup-index/tiny/\(first.manifest.version).idx"))
        #expect(try Catalog(path: folder.path + "/catalog.sqlite").version(dataset: "tiny", version: first.manifest.version)?.filesRemovedAt != nil)
    }

    @Test("a glob that reaches into output.dir is refused, naming the glob and the file, before the run reads its own shards back")
    func globIntoOutput() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        try folder.write("data/a.jsonl", "{\"text\": \"a record with enough words to pass\"}\n")
        let spec = try PipelineSpec.parse(yaml: """
            name: tiny
            sources: [{name: src, kind: jsonl, glob: "data/**/*.jsonl*"}]
            stages: [{validate: {}}]
            output: {dir: "data/out/{version}"}
            """, file: folder.path + "/spec.yaml", baseDirectory: folder.path)
        // The first night: nothing is under data/out yet.
        _ = try run(spec)
        let error = try #require(throws: RefineryError.self) { try RunPlan.make(spec: spec) }
        #expect(error.message.contains("glob 'data/**/*.jsonl*' matches \(folder.path)/data/out/"), "\(error.message)")
        #expect(error.message.contains("output.dir's folder \(folder.path)/data/out"), "\(error.message)")
    }

    @Test("a gzip (or bzip2, xz, zip) input is refused at plan time, naming the file and what to do, not quarantined line by line")
    func compressedInput() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        try folder.write("in/a.jsonl", "{\"text\": \"a record with enough words to pass\"}\n")
        try folder.write("in/b.jsonl.gz", [0x1F, 0x8B, 0x08, 0x00] + [UInt8](repeating: 0, count: 16))
        let spec = try tinySpec(folder)
        let error = try #require(throws: RefineryError.self) { try RunPlan.make(spec: spec) }
        #expect(error.message.contains("matches \(folder.path)/in/b.jsonl.gz, a gzip file"), "\(error.message)")
        #expect(error.message.contains("zstd"), "\(error.message)")
        #expect(RunPlan.unreadableCompression("x.JSONL.XZ") == "xz" && RunPlan.unreadableCompression("x.jsonl.zst") == nil)
    }

    @Test("an empty input file (an export that failed upstream) is named in a warning; the run goes on")
    func emptyInputWarning() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        try folder.write("in/a.jsonl", "{\"text\": \"a record with enough words to pass\"}\n")
        try folder.write("in/b.jsonl", "")
        let spec = try folder.write("spec.yaml", """
            name: tiny
            sources: [{name: src, kind: jsonl, glob: "in/*"}]
            stages: [{validate: {min_chars: 5}}]
            output: {dir: out}
            """)
        let run = try refinery(["run", spec])
        #expect(run.status == 0, "\(run.stderr)")
        let warnings = run.stderr.split(separator: "\n").filter { $0.contains("empty input file") }
        #expect(warnings.count == 1, "\(run.stderr)")
        #expect(warnings.first?.contains("warning") == true && warnings.first?.contains(folder.path + "/in/b.jsonl") == true, "\(run.stderr)")
    }

    @Test("incremental runs over {version} folders read only new inputs, dedup them against published versions; --full reads all")
    func incremental() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        func lines(_ night: Int, _ count: Int) -> String {
            (0..<count).map { "{\"text\": \"night \(night) record \($0) \(String(repeating: "word\(night * 100 + $0) ", count: 12))\"}\n" }.joined()
        }
        try folder.write("in/night-1.jsonl", lines(1, 20))
        let spec = try folder.write("spec.yaml", """
            name: nightly
            sources: [{name: logs, kind: jsonl, glob: "in/*.jsonl"}]
            stages: [{validate: {min_chars: 5}}, {dedup: {}}]
            output:
              dir: out/nightly/{version}
              dataset: nightly
            """)
        let first = try refinery(["run", spec])
        #expect(first.status == 0, "\(first.stderr)")
        // Night 2: a new file, holding 2 lines already published on night 1.
        try folder.write("in/night-2.jsonl", lines(2, 10) + lines(1, 2))
        let second = try refinery(["run", spec])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stderr.contains("incremental: 1 input(s) already published, skipped"))
        #expect(second.stderr.contains("read 12 = written 10 + quarantined 2"), "\(second.stderr)")
        let versions = try FileManager.default.contentsOfDirectory(atPath: folder.path + "/out/nightly")
        #expect(versions.count == 2)
        // Nothing new: no version is written, and the run says which one holds the inputs.
        let third = try refinery(["run", spec])
        #expect(third.status == 0)
        #expect(third.stderr.contains("nothing new: all 2 input(s) are in published versions"), "\(third.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path + "/out/nightly").count == 2)
        // It read and wrote nothing, and the catalog says so (not the counts of the version that holds the inputs).
        let runs = try JSONSerialization.jsonObject(with: Data(try refinery(["runs", "--spec", spec, "--json"]).stdout.utf8)) as? [[String: Any]]
        #expect(runs?.first.map { [$0["records_read"], $0["records_written"], $0["records_quarantined"]].map { $0 as? Int } } == [0, 0, 0],
                "\(runs?.first ?? [:])")
        // --full reads both files into a third version.
        let full = try refinery(["run", spec, "--full"])
        #expect(full.status == 0, "\(full.stderr)")
        #expect(full.stderr.contains("read 32 = "), "\(full.stderr)")
        let listed = try refinery(["datasets", "nightly", "--spec", spec, "--json"])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
        #expect(rows.count == 3 && rows.allSatisfy { $0["status"] as? String == "candidate" })
    }

    @Test("a damaged catalog or one from a newer Refinery stops the run before any output, and is never overwritten")
    func badCatalog() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        try folder.write("in/a.jsonl", "{\"text\": \"some text that is long enough\"}\n")
        let spec = try folder.write("spec.yaml", """
            name: tiny
            sources: [{name: src, kind: jsonl, glob: "in/*"}]
            stages: [{validate: {min_chars: 5}}]
            output: {dir: out/tiny}
            """)
        let garbage = Array("this is not a database, but someone's notes\n".utf8)
        let catalogPath = try folder.write("out/catalog.sqlite", garbage)
        let refused = try refinery(["run", spec])
        #expect(refused.status == 65)
        #expect(refused.stderr.contains(catalogPath), "\(refused.stderr)")
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: catalogPath))) == garbage)
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/out/tiny"))

        // A catalog whose schema is newer than this Refinery knows.
        try FileManager.default.removeItem(atPath: catalogPath)
        #expect(try refinery(["run", spec]).status == 0)
        let bump = Process()
        bump.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        bump.arguments = ["python3", "-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('PRAGMA user_version=999'); c.commit(); c.execute('PRAGMA wal_checkpoint(TRUNCATE)'); c.close()", catalogPath]
        try bump.run()
        bump.waitUntilExit()
        try #require(bump.terminationStatus == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: catalogPath))
        let newer = try refinery(["run", spec, "--force"])
        #expect(newer.status == 65)
        #expect(newer.stderr.contains("newer Refinery"), "\(newer.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: catalogPath)) == before)

        // A catalog whose folder cannot be made (a file is in the way) is a failed write (1), not a damaged catalog (65).
        try folder.write("blocker", "a file, not a folder\n")
        let blocked = try folder.write("blocked.yaml", """
            name: tiny
            sources: [{name: src, kind: jsonl, glob: "in/*"}]
            stages: [{validate: {min_chars: 5}}]
            output: {dir: out/blocked}
            catalog: blocker/catalog.sqlite
            """)
        let unwritable = try refinery(["run", blocked])
        #expect(unwritable.status == 1)
        #expect(unwritable.stderr.contains("cannot create the catalog's folder"), "\(unwritable.stderr)")
    }

    @Test("a committed unit whose file was damaged is read again, not trusted and not fatal")
    func damagedUnitFile() throws {
        let corpus = try Corpus(files: 6)
        defer { corpus.folder.cleanup() }
        #expect(try refinery(["run", corpus.spec]).status == 0)
        let expected = try corpus.datasetFiles()
        corpus.reset()
        try #require(Self.kill9(try Self.startStopped(["run", corpus.spec], at: "unit:2")))
        let work = corpus.output + "/.work"
        let unitFile = try #require(try FileManager.default.contentsOfDirectory(atPath: work).filter { $0.hasSuffix(".unit") }.sorted().first)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: work + "/" + unitFile)))
        bytes[bytes.count / 2] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: work + "/" + unitFile))
        let resumed = try refinery(["run", corpus.spec])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("does not match its recorded XXH3; reading the unit again"), "\(resumed.stderr)")
        #expect(resumed.stderr.contains("resumed: 1 unit(s)"))
        #expect(try corpus.datasetFiles() == expected)
    }

    @Test("--force over a fixed folder holding the production version is refused; a failed run keeps the last success metric")
    func forceOverProduction() throws {
        let corpus = try Corpus(files: 3)
        defer { corpus.folder.cleanup() }
        #expect(try refinery(["run", corpus.spec]).status == 0)
        let catalog = corpus.folder.path + "/out/catalog.sqlite"
        let version = try Manifest.read(directory: corpus.output).version
        #expect(try refinery(["promote", "ds@\(version)", "--catalog", catalog]).status == 0)
        try corpus.folder.write("in/notes/part-999.jsonl", "{\"text\": \"a new file makes a new version of the dataset\"}\n")
        let metrics = corpus.folder.path + "/refinery.prom"
        let refused = try refinery(["run", corpus.spec, "--force", "--metrics", metrics])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("the production version; --force would delete it"), "\(refused.stderr)")
        #expect(try Manifest.read(directory: corpus.output).version == version, "the production dataset is untouched")
        let text = try String(contentsOfFile: metrics, encoding: .utf8)
        #expect(text.contains("refinery_run_status{dataset=\"ds\",status=\"failed\"} 1"), "\(text)")
        #expect(text.contains("refinery_last_success_timestamp_seconds{dataset=\"ds\"} 1"), "the last success survives a failed run: \(text)")
    }

    @Test("incremental runs skip a source whose records span files only when all its files are published")
    func incrementalSpanningSource() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        try folder.write("in/a.tsv", "user_id\titem_id\trating\ttimestamp\nu1\ti1\t5\t100\n")
        try folder.write("in/b.tsv", "user_id\titem_id\trating\ttimestamp\nu1\ti2\t4\t200\n")
        try folder.write("docs/x.jsonl", "{\"text\": \"a document that is long enough\"}\n")
        let spec = try PipelineSpec.parse(yaml: """
            name: spans
            sources:
              - {name: ratings, kind: interactions, glob: "in/*.tsv", options: {columns: {user: user_id, item: item_id, rating: rating, timestamp: timestamp}}}
              - {name: docs, kind: jsonl, glob: "docs/*.jsonl"}
            stages: [{validate: {min_chars: 5}}]
            output: {dir: "out/{version}"}
            """, file: folder.path + "/spec.yaml", baseDirectory: folder.path)
        let plan = try RunPlan.make(spec: spec)
        let key = { (source: String, xxh3: String) in "\(source) \(xxh3)" }
        var published = [key("ratings", plan.fingerprints[0].xxh3): "v-old", key("docs", plan.fingerprints[2].xxh3): "v-old"]
        // One file of the interaction source is new: both are read (a user's history spans them); docs is skipped.
        var skipping = plan.skipping(published: published, key: key)
        #expect(skipping.files.map(\.relativePath) == ["a.tsv", "b.tsv"])
        #expect(skipping.skipped.map(\.input.path) == ["docs/x.jsonl"])
        #expect(skipping.version != plan.version)
        published[key("ratings", plan.fingerprints[1].xxh3)] = "v-old"
        skipping = plan.skipping(published: published, key: key)
        #expect(skipping.files.isEmpty && skipping.skipped.count == 3)
        // The same bytes in another source are another input.
        #expect(plan.skipping(published: [key("other", plan.fingerprints[2].xxh3): "v-old"], key: key).skipped.isEmpty)
    }
}
