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
                FileManager.default.fileExists(atPath: output + "/" + path, isDirectory: &isFolder)
                if !isFolder.boolValue { files[path] = try Data(contentsOf: URL(fileURLWithPath: output + "/" + path)) }
            }
            return files
        }

        /// Removes the dataset, the catalog and the dedup index: a machine that never ran this spec.
        func reset() {
            try? FileManager.default.removeItem(atPath: folder.path + "/out")
        }

        func committedUnits() -> Int {
            guard FileManager.default.fileExists(atPath: folder.path + "/out/catalog.sqlite"),
                  let catalog = try? Catalog.openExisting(path: folder.path + "/out/catalog.sqlite") else { return 0 }
            return (try? catalog.committedUnits(outputDirectory: output).count) ?? 0
        }
    }

    /// Starts `refinery run` as a child process.
    static func start(_ arguments: [String]) throws -> (Process, Pipe) {
        let process = Process()
        process.executableURL = try refineryBinary()
        process.arguments = arguments
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return (process, err)
    }

    @Test("kill -9 at several points, then the same command: the dataset equals an uninterrupted run's, byte for byte")
    func killAndResume() throws {
        let corpus = try Corpus()
        defer { corpus.folder.cleanup() }
        let straight = try refinery(["run", corpus.spec, "--workers", "2"])
        #expect(straight.status == 0, "\(straight.stderr)")
        let expected = try corpus.datasetFiles()
        #expect(expected.keys.contains("manifest.json"))
        #expect(!FileManager.default.fileExists(atPath: corpus.output + "/.work"), "a finished run removes its committed work")

        // Kill once this many units are committed (the last: every unit, so the kill lands in dedup or writing).
        var killedRuns = 0
        var resumedRuns = 0
        for threshold in [0, 1, corpus.files / 2, corpus.files] {
            corpus.reset()
            let (process, _) = try Self.start(["run", corpus.spec, "--workers", "2"])
            let deadline = Date().addingTimeInterval(60)
            while process.isRunning && corpus.committedUnits() < threshold && Date() < deadline { usleep(2_000) }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            if process.terminationReason == .uncaughtSignal { killedRuns += 1 }
            #expect(!FileManager.default.fileExists(atPath: corpus.output + "/manifest.json") || process.terminationReason == .exit)

            let resumed = try refinery(["run", corpus.spec, "--workers", "1"])
            #expect(resumed.status == 0, "after a kill at \(threshold) units: \(resumed.stderr)")
            if resumed.stderr.contains("resumed: ") { resumedRuns += 1 }
            let files = try corpus.datasetFiles()
            #expect(files.keys.sorted() == expected.keys.sorted(), "after a kill at \(threshold) units")
            for (name, bytes) in expected { #expect(files[name] == bytes, "\(name) differs after a kill at \(threshold) units") }
        }
        #expect(killedRuns >= 3, "most runs must really be killed mid-way (\(killedRuns) were)")
        #expect(resumedRuns >= 2, "resumes must reuse committed units (\(resumedRuns) did)")
    }

    @Test("a changed spec refuses to resume another spec's work and says so; --restart starts over")
    func changedSpec() throws {
        let corpus = try Corpus(files: 12)
        defer { corpus.folder.cleanup() }
        let straight = try refinery(["run", corpus.spec])
        #expect(straight.status == 0, "\(straight.stderr)")
        let expected = try corpus.datasetFiles()
        corpus.reset()
        let (process, _) = try Self.start(["run", corpus.spec])
        while process.isRunning && corpus.committedUnits() < 2 { usleep(2_000) }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try #require(process.terminationReason == .uncaughtSignal, "the run ended before it could be killed")

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
        let (first, _) = try Self.start(["run", corpus.spec, "--workers", "1"])
        while first.isRunning && corpus.committedUnits() < 1 { usleep(2_000) }
        let second = try refinery(["run", corpus.spec])
        let firstWasRunning = first.isRunning
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        try #require(firstWasRunning, "the first run ended before the second started")
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
        let clean = try run(spec)
        let expected = try Data(contentsOf: URL(fileURLWithPath: folder.path + "/out/manifest.json"))
        #expect(clean.unitsReused == 0)
        // Disks of several sizes: each fills somewhere else, before, during or after some units were committed.
        var partial = 0
        for capacity in [2_000, 8_000, 16_000, 24_000, 32_000, 48_000] {
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
    }
}
