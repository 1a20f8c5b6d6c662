import Foundation
import Logging
@testable import RefineryPipeline
import RefineryCatalog
import RefineryShards
import RefinerySpec
import Testing

/// A run split into phases (map tasks, then the reduce), as Slurm or any scheduler runs it, with the real binary:
/// the dataset must equal the local executor's byte for byte, however the units are shared and whatever fails.
/// (tools/slurm/test.sh runs the same on a real Slurm cluster.)
@Suite(.serialized) struct PhasedRunTests {
    typealias Corpus = NightlyRunTests.Corpus

    func mapTask(_ corpus: Corpus, _ task: Int, of count: Int) throws -> (status: Int32, stdout: String, stderr: String) {
        try refinery(["run", corpus.spec, "--phase", "map", "--task-index", "\(task)", "--task-count", "\(count)", "--workers", "2"])
    }

    @Test("map tasks by hand, then the reduce: the local executor's dataset, byte for byte, and no catalog writes before the reduce")
    func phasesEqualLocal() throws {
        let corpus = try Corpus(files: 10, lines: 30)
        defer { corpus.folder.cleanup() }
        let local = try refinery(["run", corpus.spec, "--workers", "2"])
        #expect(local.status == 0, "\(local.stderr)")
        let expected = try corpus.datasetFiles()

        for tasks in [1, 3, 16] {   // 16 tasks for 10 units: some tasks own nothing
            corpus.reset()
            var read = 0
            for task in 0..<tasks {
                let result = try mapTask(corpus, task, of: tasks)
                #expect(result.status == 0, "task \(task) of \(tasks): \(result.stderr)")
                if let match = result.stderr.firstMatch(of: /unit\(s\), (\d+) read and committed/) { read += Int(match.1)! }
            }
            #expect(read == corpus.files, "every unit is read by exactly one of \(tasks) tasks")
            #expect(!FileManager.default.fileExists(atPath: corpus.folder.path + "/out/catalog.sqlite"), "map tasks do not write the catalog")
            let reduce = try refinery(["run", corpus.spec, "--phase", "reduce", "--workers", "1"])
            #expect(reduce.status == 0, "\(reduce.stderr)")
            #expect(reduce.stderr.contains("reduce: \(corpus.files) unit(s) committed by the map tasks"), "\(reduce.stderr)")
            let files = try corpus.datasetFiles()
            #expect(files.keys.sorted() == expected.keys.sorted(), "\(tasks) tasks")
            for (name, bytes) in expected { #expect(files[name] == bytes, "\(name) differs with \(tasks) map tasks") }
            #expect(!FileManager.default.fileExists(atPath: corpus.output + "/.work"), "the reduce removes the committed work")
        }
    }

    @Test("the reduce refuses while a map task is missing, naming its units; a killed task resumes after its committed unit")
    func missingAndKilledTasks() throws {
        let corpus = try Corpus(files: 10, lines: 30)
        defer { corpus.folder.cleanup() }
        let local = try refinery(["run", corpus.spec, "--workers", "2"])
        #expect(local.status == 0, "\(local.stderr)")
        let expected = try corpus.datasetFiles()
        // A reduce with --force but no committed units refuses before it removes anything.
        let forced = try refinery(["run", corpus.spec, "--phase", "reduce", "--force"])
        #expect(forced.status == 64, "\(forced.stderr)")
        #expect(try corpus.datasetFiles() == expected, "the complete dataset is left as it was")
        corpus.reset()

        #expect(try mapTask(corpus, 0, of: 2).status == 0)
        let early = try refinery(["run", corpus.spec, "--phase", "reduce"])
        #expect(early.status == 64, "\(early.stderr)")
        #expect(early.stderr.contains("the map phase is not finished: 5 of 10 unit(s) are not committed"), "\(early.stderr)")
        #expect(!FileManager.default.fileExists(atPath: corpus.output + "/manifest.json"))

        // Task 1 killed right after committing its first unit; run again, it reads only the other four.
        let process = try NightlyRunTests.startStopped(["run", corpus.spec, "--phase", "map", "--task-index", "1", "--task-count", "2"],
                                                       at: "unit:1")
        try #require(NightlyRunTests.kill9(process), "the task ended before its first unit")
        let again = try mapTask(corpus, 1, of: 2)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stderr.contains("5 unit(s), 4 read and committed"), "\(again.stderr)")
        #expect(again.stderr.contains("1 committed before"), "\(again.stderr)")
        // A task that is complete does nothing the second time.
        let twice = try mapTask(corpus, 1, of: 2)
        #expect(twice.stderr.contains("5 unit(s), 0 read and committed"), "\(twice.stderr)")

        let reduce = try refinery(["run", corpus.spec, "--phase", "reduce"])
        #expect(reduce.status == 0, "\(reduce.stderr)")
        let files = try corpus.datasetFiles()
        for (name, bytes) in expected { #expect(files[name] == bytes, "\(name) differs after a killed map task") }
        let done = try mapTask(corpus, 0, of: 2)
        #expect(done.stderr.contains("dataset already complete"), "\(done.stderr)")
    }

    func dedupTask(_ corpus: Corpus, _ task: Int, of count: Int) throws -> (status: Int32, stdout: String, stderr: String) {
        try refinery(["run", corpus.spec, "--phase", "dedup", "--task-index", "\(task)", "--task-count", "\(count)"])
    }

    /// The `dedup_band_files` of the dataset's stats.json: how many dedup tasks' band files the reduce used.
    func bandFilesUsed(_ corpus: Corpus) throws -> Int? {
        let data = try Data(contentsOf: URL(fileURLWithPath: corpus.output + "/stats.json"))
        return (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["dedup_band_files"] as? Int
    }

    @Test("map, then dedup tasks sharing the LSH bands, then the reduce: the local executor's dataset, byte for byte")
    func dedupPhaseEqualsLocal() throws {
        let corpus = try Corpus(files: 10, lines: 30)
        defer { corpus.folder.cleanup() }
        let local = try refinery(["run", corpus.spec, "--workers", "2"])
        #expect(local.status == 0, "\(local.stderr)")
        let expected = try corpus.datasetFiles()
        #expect(try bandFilesUsed(corpus) == nil, "a local run has no dedup phase")

        for (maps, dedups) in [(2, 1), (3, 3), (2, 16)] {   // 16 tasks for 14 bands: two number none
            corpus.reset()
            for task in 0..<maps { #expect(try mapTask(corpus, task, of: maps).status == 0) }
            var bands: [Int] = []
            for task in 0..<dedups {
                let result = try dedupTask(corpus, task, of: dedups)
                #expect(result.status == 0, "dedup task \(task) of \(dedups): \(result.stderr)")
                if let match = result.stderr.firstMatch(of: /bands ([0-9,]+), (\d+) records/) {
                    bands += match.1.split(separator: ",").map { Int($0)! }
                    #expect(Int(match.2)! > 0)
                } else {
                    #expect(task >= 14 && result.stderr.contains("no band left for this task"), "\(result.stderr)")
                }
            }
            #expect(bands.sorted() == Array(0..<14), "every band numbered by exactly one of \(dedups) tasks")
            #expect(!FileManager.default.fileExists(atPath: corpus.folder.path + "/out/catalog.sqlite"), "dedup tasks do not write the catalog")
            let again = try dedupTask(corpus, 0, of: dedups)
            #expect(again.stderr.contains("nothing to do: an earlier attempt of this task wrote its band file"), "\(again.stderr)")
            let reduce = try refinery(["run", corpus.spec, "--phase", "reduce", "--workers", "1"])
            #expect(reduce.status == 0, "\(reduce.stderr)")
            #expect(try bandFilesUsed(corpus) == dedups, "the reduce resolved over the \(dedups) band files")
            let files = try corpus.datasetFiles()
            #expect(files.keys.sorted() == expected.keys.sorted())
            for (name, bytes) in expected { #expect(files[name] == bytes, "\(name) differs with \(maps) map and \(dedups) dedup tasks") }
            #expect(!FileManager.default.fileExists(atPath: corpus.output + "/.work"), "the reduce removes the band files with the committed work")
        }
    }

    @Test("a dedup task refuses before the map phase is done; the reduce does without band files that are missing or damaged")
    func dedupPhaseIncomplete() throws {
        let corpus = try Corpus(files: 6, lines: 30)
        defer { corpus.folder.cleanup() }
        #expect(try refinery(["run", corpus.spec]).status == 0)
        let expected = try corpus.datasetFiles()

        for damage in ["a missing task", "a cut file"] {
            corpus.reset()
            #expect(try mapTask(corpus, 0, of: 2).status == 0)
            let early = try dedupTask(corpus, 0, of: 2)
            #expect(early.status == 64, "\(early.stderr)")
            #expect(early.stderr.contains("the map phase is not finished: 3 of 6 unit(s) are not committed"), "\(early.stderr)")
            #expect(try mapTask(corpus, 1, of: 2).status == 0)
            #expect(try dedupTask(corpus, 0, of: 2).status == 0)
            if damage == "a cut file" {
                #expect(try dedupTask(corpus, 1, of: 2).status == 0)
                let folder = corpus.output + "/.work/dedup"
                let version = try #require(try FileManager.default.contentsOfDirectory(atPath: folder).first)
                let path = "\(folder)/\(version)/bands-1-of-2.bin"
                let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
                try bytes.prefix(bytes.count - 3).write(to: URL(fileURLWithPath: path))
            }
            let reduce = try refinery(["run", corpus.spec, "--phase", "reduce"])
            #expect(reduce.status == 0, "\(reduce.stderr)")
            #expect(reduce.stderr.contains("band files are not used"), "\(damage): \(reduce.stderr)")
            #expect(try bandFilesUsed(corpus) == nil)
            #expect(try corpus.datasetFiles() == expected, "\(damage): the same dataset, from the band hashes")
        }

        // A bucket number changed inside a complete set: the reduce stops with the file named rather than use it.
        corpus.reset()
        for task in 0..<2 { #expect(try mapTask(corpus, task, of: 2).status == 0) }
        for task in 0..<2 { #expect(try dedupTask(corpus, task, of: 2).status == 0) }
        let folder = corpus.output + "/.work/dedup"
        let version = try #require(try FileManager.default.contentsOfDirectory(atPath: folder).first)
        let path = "\(folder)/\(version)/bands-0-of-2.bin"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.startIndex + 4] ^= 1   // the second number of the first record
        try bytes.write(to: URL(fileURLWithPath: path))
        let flipped = try refinery(["run", corpus.spec, "--phase", "reduce"])
        #expect(flipped.status != 0, "\(flipped.stderr)")
        #expect(flipped.stderr.contains("bands-0-of-2.bin") && flipped.stderr.contains("band file"), "\(flipped.stderr)")
        #expect(!FileManager.default.fileExists(atPath: corpus.output + "/manifest.json"))
        try FileManager.default.removeItem(atPath: folder)
        #expect(try refinery(["run", corpus.spec, "--phase", "reduce"]).status == 0)
        #expect(try corpus.datasetFiles() == expected)
    }

    func stat(_ corpus: Corpus, _ key: String) throws -> Int? {
        let data = try Data(contentsOf: URL(fileURLWithPath: corpus.output + "/stats.json"))
        return (try JSONSerialization.jsonObject(with: data) as? [String: Any])?[key] as? Int
    }

    @Test("all five phases by hand (map, dedup, resolve, finalize, reduce): the local executor's dataset, byte for byte")
    func allPhasesEqualLocal() throws {
        let corpus = try Corpus(files: 10, lines: 30)
        defer { corpus.folder.cleanup() }
        #expect(try refinery(["run", corpus.spec, "--workers", "2"]).status == 0)
        let expected = try corpus.datasetFiles()
        for finalizers in [1, 3, 16] {   // 16 tasks for 10 units: some finalize nothing
            corpus.reset()
            for task in 0..<2 { #expect(try mapTask(corpus, task, of: 2).status == 0) }
            for task in 0..<3 { #expect(try dedupTask(corpus, task, of: 3).status == 0) }
            let resolve = try refinery(["run", corpus.spec, "--phase", "resolve"])
            #expect(resolve.status == 0, "\(resolve.stderr)")
            #expect(resolve.stderr.contains(/resolve: \d+ records, \d+ dropped by the global stages/), "\(resolve.stderr)")
            var finalized = 0
            for task in 0..<finalizers {
                let result = try refinery(["run", corpus.spec, "--phase", "finalize", "--task-index", "\(task)", "--task-count", "\(finalizers)",
                                           "--workers", "2"])
                #expect(result.status == 0, "finalize task \(task) of \(finalizers): \(result.stderr)")
                if let match = result.stderr.firstMatch(of: /unit\(s\), (\d+) finalized/) { finalized += Int(match.1)! }
            }
            #expect(finalized == corpus.files, "every unit finalized by exactly one of \(finalizers) tasks")
            #expect(!FileManager.default.fileExists(atPath: corpus.folder.path + "/out/catalog.sqlite"), "no phase before the reduce writes the catalog")
            let reduce = try refinery(["run", corpus.spec, "--phase", "reduce", "--workers", "1"])
            #expect(reduce.status == 0, "\(reduce.stderr)")
            #expect(try stat(corpus, "finalized_units") == corpus.files, "the reduce appended the finalize tasks' pieces")
            #expect(try stat(corpus, "dedup_band_files") == 3, "the resolution used the band files")
            let files = try corpus.datasetFiles()
            #expect(files.keys.sorted() == expected.keys.sorted())
            for (name, bytes) in expected { #expect(files[name] == bytes, "\(name) differs with \(finalizers) finalize tasks") }
            #expect(!FileManager.default.fileExists(atPath: corpus.output + "/.work"), "the reduce removes the work of every phase")
        }
    }

    @Test("finalize refuses before the resolve; a killed finalize task resumes; the reduce finalizes what no task did")
    func finalizeIncomplete() throws {
        let corpus = try Corpus(files: 6, lines: 30)
        defer { corpus.folder.cleanup() }
        #expect(try refinery(["run", corpus.spec]).status == 0)
        let expected = try corpus.datasetFiles()
        corpus.reset()
        for task in 0..<2 { #expect(try mapTask(corpus, task, of: 2).status == 0) }
        let early = try refinery(["run", corpus.spec, "--phase", "finalize", "--task-index", "0", "--task-count", "2"])
        #expect(early.status == 64, "\(early.stderr)")
        #expect(early.stderr.contains("the resolve phase has not run"), "\(early.stderr)")
        #expect(try refinery(["run", corpus.spec, "--phase", "resolve"]).status == 0)
        let twice = try refinery(["run", corpus.spec, "--phase", "resolve"])
        #expect(twice.stderr.contains("nothing to do: an earlier attempt wrote the resolution"), "\(twice.stderr)")

        // Task 0 killed right after finalizing its first unit: run again, it finalizes only the others.
        let process = try NightlyRunTests.startStopped(["run", corpus.spec, "--phase", "finalize", "--task-index", "0", "--task-count", "2"],
                                                       at: "finalized:1")
        try #require(NightlyRunTests.kill9(process), "the task ended before its first unit")
        let again = try refinery(["run", corpus.spec, "--phase", "finalize", "--task-index", "0", "--task-count", "2"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stderr.contains("3 unit(s), 2 finalized"), "\(again.stderr)")
        #expect(again.stderr.contains("1 finalized before"), "\(again.stderr)")

        // Task 1 never ran: the reduce finalizes every unit itself, with the same bytes.
        let reduce = try refinery(["run", corpus.spec, "--phase", "reduce"])
        #expect(reduce.status == 0, "\(reduce.stderr)")
        #expect(reduce.stderr.contains("finalize phase's output is not used"), "\(reduce.stderr)")
        #expect(try stat(corpus, "finalized_units") == nil)
        #expect(try corpus.datasetFiles() == expected)
    }

    @Test("a resubmission asks only for the dedup, resolve and finalize tasks whose work is not done from the current units")
    func laterWorkAfterTheMap() throws {
        let corpus = try Corpus(files: 6, lines: 30)
        defer { corpus.folder.cleanup() }
        let plan = try RunPlan.make(spec: try PipelineSpec.load(path: corpus.spec))
        let units = WorkUnit.units(of: plan)
        let shares = TaskPartition.assign(units, tasks: 2).map { $0.map { units[$0] } }
        func later(mapDone: Bool) throws -> (dedup: [Int], resolve: Bool, finalize: [Int]) {
            let catalog = try Catalog.openReadOnly(path: plan.spec.catalogPath)
            return try SlurmExecutor.laterWork(plan: plan, shares: shares, mapDone: mapDone, dedupTasks: 3, finalizeTasks: 2,
                                               catalog: catalog, logger: Logger(label: "test"))
        }
        #expect(try mapTask(corpus, 0, of: 2).status == 0)
        _ = try Catalog(path: plan.spec.catalogPath)   // the submitter's catalog
        #expect(try later(mapDone: false) == ([0, 1, 2], true, [0, 1]), "a map task left: everything after it")
        #expect(try mapTask(corpus, 1, of: 2).status == 0)
        #expect(try later(mapDone: true) == ([0, 1, 2], true, [0, 1]))
        #expect(try dedupTask(corpus, 1, of: 3).status == 0)
        #expect(try later(mapDone: true) == ([0, 2], true, [0, 1]), "dedup task 1 is done")
        for task in [0, 2] { #expect(try dedupTask(corpus, task, of: 3).status == 0) }
        #expect(try refinery(["run", corpus.spec, "--phase", "resolve"]).status == 0)
        #expect(try later(mapDone: true) == ([], false, [0, 1]), "the resolution matches the units")
        #expect(try refinery(["run", corpus.spec, "--phase", "finalize", "--task-index", "1", "--task-count", "2"]).status == 0)
        #expect(try later(mapDone: true) == ([], false, [0]), "finalize task 1 is done")
    }

    @Test("a task given the submission's input hashes takes them for files whose size and mtime match, and hashes a touched file again")
    func inputHashes() throws {
        let corpus = try Corpus(files: 4, lines: 10)
        defer { corpus.folder.cleanup() }
        #expect(try refinery(["run", corpus.spec]).status == 0)
        let version = try Manifest.read(directory: corpus.output).version
        corpus.reset()
        let plan = try RunPlan.make(spec: try PipelineSpec.load(path: corpus.spec))
        var hashes = InputHashes(plan: plan)
        let path = corpus.folder.path + "/inputs.json"
        try hashes.write(to: path)
        let task = ["run", corpus.spec, "--phase", "map", "--task-index", "0", "--task-count", "2", "--expect-version", version,
                    "--input-hashes", path]
        let good = try refinery(task)
        #expect(good.status == 0, "\(good.stderr)")

        // A recorded hash that is wrong, for a file whose stamp matches: taken as it is (the file is not read), so the
        // version differs and the pin stops the task. That is the proof the task did not hash the file itself.
        let victim = plan.files[1].path
        hashes.files[victim]!.xxh3 = "0000000000000001"
        try hashes.write(to: path)
        let trusted = try refinery(task)
        #expect(trusted.status == 64, "\(trusted.stderr)")
        #expect(trusted.stderr.contains("this task was submitted for version \(version)"), "\(trusted.stderr)")
        // Touched, the file is hashed again: its true hash gives the submission's version back.
        let later = Date(timeIntervalSinceNow: 5)
        try FileManager.default.setAttributes([.modificationDate: later], ofItemAtPath: victim)
        let touched = try refinery(task)
        #expect(touched.status == 0, "\(touched.stderr)")
    }

    @Test("a plain run reuses the units map tasks committed and reads the rest itself")
    func plainRunAfterSomeTasks() throws {
        let corpus = try Corpus(files: 10, lines: 30)
        defer { corpus.folder.cleanup() }
        let local = try refinery(["run", corpus.spec])
        let expected = try corpus.datasetFiles()
        #expect(local.status == 0)
        corpus.reset()
        #expect(try mapTask(corpus, 2, of: 3).status == 0)
        let run = try refinery(["run", corpus.spec])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("resumed: 3 unit(s)"), "\(run.stderr)")
        let files = try corpus.datasetFiles()
        for (name, bytes) in expected { #expect(files[name] == bytes, "\(name)") }
    }

    @Test("bad phase arguments get a message a person can act on")
    func badArguments() throws {
        let corpus = try Corpus(files: 2, lines: 5)
        defer { corpus.folder.cleanup() }
        let cases: [([String], String)] = [
            (["--phase", "map"], "--phase map needs --task-index I and --task-count N"),
            (["--phase", "map", "--task-index", "4", "--task-count", "4"], "--task-index must be from 0 to 3"),
            (["--phase", "map", "--task-index", "0", "--task-count", "0"], "--task-count must be at least 1"),
            (["--task-index", "1"], "--task-index and --task-count go with --phase map, dedup or finalize"),
            (["--phase", "finalize", "--task-index", "0"], "--phase finalize needs --task-index I and --task-count N"),
            (["--phase", "resolve", "--task-count", "2"], "--task-index and --task-count go with --phase map, dedup or finalize"),
            (["--phase", "dedup"], "--phase dedup needs --task-index I and --task-count N"),
            (["--phase", "dedup", "--task-index", "2", "--task-count", "2"], "--task-index must be from 0 to 1"),
            (["--executor", "slurm", "--phase", "reduce"], "--executor slurm submits every phase"),
            (["--executor", "slurm", "--tasks", "0"], "--tasks must be at least 1"),
            (["--executor", "slurm", "--time", "2 h"], "--time takes one sbatch value without spaces"),
            (["--partition", "gpu"], "--tasks, --partition, --time and --mem go with --executor slurm"),
            (["--tasks", "8"], "--tasks, --partition, --time and --mem go with --executor slurm"),
            (["--phase", "reduce", "--restart"], "--restart discards every task's committed work"),
            (["--expect-version", "v-1"], "--expect-version goes with --phase"),
            (["--input-hashes", "inputs.json"], "--input-hashes goes with --phase"),
            (["--phase", "reduce", "--input-hashes", "missing.json"], "cannot read the input hashes file"),
            (["--phase", "reduce", "--expect-version", "v-0000"], "this task was submitted for version v-0000"),
            (["--phase", "shuffle"], "The value 'shuffle' is invalid for '--phase"),
        ]
        for (arguments, message) in cases {
            let result = try refinery(["run", corpus.spec] + arguments)
            #expect(result.status == 64, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
    }

    @Test("tasks share units by size, each unit once, the same way every time")
    func partition() {
        func unit(_ bytes: Int) -> WorkUnit { WorkUnit(sourceIndex: 0, files: [], key: "k\(bytes)", name: "u", bytes: bytes) }
        let units = [100, 5, 60, 60, 30, 1, 40].map(unit)
        let shares = TaskPartition.assign(units, tasks: 3)
        #expect(shares.flatMap { $0 }.sorted() == Array(units.indices))
        #expect(shares == TaskPartition.assign(units, tasks: 3))
        let loads = shares.map { $0.reduce(0) { $0 + units[$1].bytes } }
        #expect(loads == [100, 100, 96], "largest first, each to the lightest task: \(loads)")
        #expect(shares.allSatisfy { $0 == $0.sorted() }, "each task reads its units in reading order")
        #expect(TaskPartition.assign(units, tasks: 10).filter(\.isEmpty).count == 3)
    }

    @Test("Slurm array lists and job scripts")
    func slurmText() throws {
        #expect(ArraySpec.text([0, 1, 2, 3]) == "0-3")
        #expect(ArraySpec.text([1, 3, 4, 5, 7, 8]) == "1,3-5,7,8")
        #expect(ArraySpec.indexes("1,3-5,7,8%2") == [1, 3, 4, 5, 7, 8])
        #expect(ArraySpec.indexes("0-9:3") == [0, 3, 6, 9])
        #expect(ArraySpec.indexes("x").isEmpty)
        let settings = SlurmExecutor.Settings(tasks: 4, cpusPerTask: 2, partition: "batch", time: "1:00:00", memory: "8G", binary: "/opt/refinery")
        #expect(SlurmExecutor.jobName("news/fr 2026") == "news_fr_2026")
        let script = SlurmExecutor.script(phase: "map", settings: settings,
                                          command: ["/opt/refinery", "run", "/data/my spec.yaml", "--task-index", "$SLURM_ARRAY_TASK_ID"])
        #expect(script.contains("#SBATCH --partition=batch\n#SBATCH --time=1:00:00\n#SBATCH --mem=8G\n"), "\(script)")
        #expect(script.contains("#SBATCH --cpus-per-task=2\n"))
        #expect(script.hasSuffix("exec /opt/refinery run '/data/my spec.yaml' --task-index \"$SLURM_ARRAY_TASK_ID\"\n"), "\(script)")
        #expect(SlurmExecutor.shellQuote("it's") == "'it'\\''s'")
        #expect(try SlurmCommand.jobID(fromParsable: "123;cluster\n") == "123")
    }
}
