import ArgumentParser
import Foundation
import Logging
import RefineryCatalog
import RefineryPipeline
import RefineryRecords
import RefinerySpec

/// `refinery run SPEC`: runs a pipeline spec and prints the funnel.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a pipeline spec: read, validate, split and shard; print the funnel to stderr.")

    @Argument(help: "Path to a pipeline spec (YAML), e.g. pipelines/demo.yaml.")
    var spec: String

    @Flag(name: .long, help: "Check the spec and inputs and print the plan; write nothing.")
    var dryRun = false

    @Option(name: .long, help: "Worker threads (default: every core). The output is the same for any value.")
    var workers: Int?

    @Flag(name: .long, help: "Replace a dataset folder that already holds another version.")
    var force = false

    @Flag(name: .long, help: "Read every input, also those a published version already holds (runs are incremental when output.dir has {version}).")
    var full = false

    @Flag(name: .long, help: "Discard the work an interrupted run committed and start over, instead of resuming from it.")
    var restart = false

    @Flag(name: .long, help: "Do not write report.html (and the report's numbers in stats.json); `refinery report` writes them later.")
    var noReport = false

    @Option(name: .long, help: ArgumentHelp("Run one phase: map (one map task; needs --task-index and --task-count), dedup (one task "
        + "numbering the LSH buckets of its share of the bands, once every unit is mapped; also --task-index and --task-count), resolve "
        + "(dedup and balance decided over every record), finalize (one task making its units' shard pieces from those decisions; also "
        + "--task-index and --task-count) or reduce (the dataset and its manifest, doing itself what no earlier phase did). "
        + "Default: every phase, here.", valueName: "map|dedup|resolve|finalize|reduce"))
    var phase: PhaseName?

    @Option(name: .long, help: "With --phase map, dedup or finalize: this task's number, from 0 to --task-count - 1.")
    var taskIndex: Int?

    @Option(name: .long, help: "With --phase map or finalize: how many tasks share the units; with --phase dedup, how many tasks share the LSH bands.")
    var taskCount: Int?

    @Option(name: .long, help: ArgumentHelp("Where the phases run: local (here, default) or slurm (job arrays submitted with sbatch; "
        + "follow them with `refinery status`).", valueName: "local|slurm"))
    var executor: ExecutorName = .local

    @Option(name: .long, help: "With --phase: refuse to run unless the spec and inputs give this dataset version (job scripts pin the submission's).")
    var expectVersion: String?

    @Option(name: .long, help: ArgumentHelp("With --phase: the inputs' fingerprints a submission recorded (job scripts pass its inputs-S.json); "
        + "a file whose size and modification time match is not read again to fingerprint it.", valueName: "FILE"))
    var inputHashes: String?

    @Option(name: .long, help: "With --executor slurm: map tasks (the array's size; default 4).")
    var tasks: Int?

    @Option(name: .long, help: "With --executor slurm: the partition (sbatch --partition).")
    var partition: String?

    @Option(name: .long, help: "With --executor slurm: each job's time limit (sbatch --time, e.g. 2:00:00).")
    var time: String?

    @Option(name: .long, help: "With --executor slurm: each job's memory (sbatch --mem, e.g. 8G).")
    var mem: String?

    @OptionGroup var global: GlobalOptions

    enum PhaseName: String, ExpressibleByArgument, CaseIterable { case map, dedup, resolve, finalize, reduce }
    enum ExecutorName: String, ExpressibleByArgument, CaseIterable { case local, slurm }

    func validate() throws {
        if let workers, workers < 1 { throw ValidationError("--workers must be at least 1, got \(workers)") }
        switch phase {
        case .map, .dedup, .finalize:
            guard let taskIndex, let taskCount else {
                throw ValidationError("--phase \(phase!.rawValue) needs --task-index I and --task-count N (the task's number from 0, and how many tasks "
                    + (phase == .dedup ? "share the LSH bands)" : "share the units)"))
            }
            if taskCount < 1 { throw ValidationError("--task-count must be at least 1, got \(taskCount)") }
            if !(0..<taskCount).contains(taskIndex) {
                throw ValidationError("--task-index must be from 0 to \(taskCount - 1) (--task-count \(taskCount)), got \(taskIndex)")
            }
        case .resolve, .reduce, nil:
            if taskIndex != nil || taskCount != nil { throw ValidationError("--task-index and --task-count go with --phase map, dedup or finalize") }
        }
        if executor == .slurm {
            if phase != nil { throw ValidationError("--executor slurm submits every phase; --phase is what each job runs") }
            if let tasks, tasks < 1 { throw ValidationError("--tasks must be at least 1, got \(tasks)") }
            for (name, value) in [("--partition", partition), ("--time", time), ("--mem", mem)] {
                if let value, value.isEmpty || value.contains(where: { $0.isWhitespace || $0 == "#" }) {
                    throw ValidationError("\(name) takes one sbatch value without spaces, got '\(value)'")
                }
            }
        } else if partition != nil || time != nil || mem != nil || tasks != nil {
            throw ValidationError("--tasks, --partition, --time and --mem go with --executor slurm")
        }
        if phase != nil && restart {
            throw ValidationError("--restart discards every task's committed work: pass it to the submission (--executor slurm) or a run without --phase, not to one phase")
        }
        if expectVersion != nil && phase == nil { throw ValidationError("--expect-version goes with --phase") }
        if inputHashes != nil && phase == nil { throw ValidationError("--input-hashes goes with --phase") }
    }

    func run() throws {
        let logger = global.makeLogger()
        logger.debug("allocator", metadata: ["allocator": "\(Allocator.description)"])
        let plan: RunPlan
        do {
            let loaded = try PipelineSpec.load(path: spec)
            plan = try RunPlan.make(spec: loaded, known: try inputHashes.map(InputHashes.read))
        } catch let error as RefineryError {
            printError("error: \(error)")
            throw ExitCode(Self.exitCode(error))
        }
        if dryRun {
            print(plan.description)
            return
        }
        var options = RunOptions(force: force, full: full, restart: restart, report: !noReport, monitor: global.monitorOptions())
        if let workers { options.workers = workers }
        options.expectedVersion = expectVersion
        switch phase {
        case .map: options.phase = .map(task: taskIndex ?? 0, of: taskCount ?? 1)
        case .dedup: options.phase = .dedup(task: taskIndex ?? 0, of: taskCount ?? 1)
        case .resolve: options.phase = .resolve
        case .finalize: options.phase = .finalize(task: taskIndex ?? 0, of: taskCount ?? 1)
        case .reduce: options.phase = .reduce
        case nil: break
        }
        if executor == .slurm { return try submitToSlurm(plan: plan, options: options, logger: logger) }
        if case .map = options.phase { return try runMapTask(plan: plan, options: options, logger: logger) }
        if case .dedup = options.phase { return try runDedupTask(plan: plan, options: options, logger: logger) }
        if case .resolve = options.phase { return try runResolveTask(plan: plan, options: options, logger: logger) }
        if case .finalize = options.phase { return try runFinalizeTask(plan: plan, options: options, logger: logger) }
        // SIGTERM and SIGINT stop the run at its next batch, recorded as interrupted (``RunStop``); a second one kills it.
        RunStop.catchSignals()
        defer { RunStop.release() }
        do {
            let result = try Engine(plan: plan, options: options, logger: logger).run()
            if result.nothingNew {
                printError("nothing new: all \(result.skippedInputs) input(s) are in published versions of \(result.manifest.dataset), the newest "
                    + "\(result.manifest.version) at \(result.directory); nothing written. Pass --full to read them again. (run \(result.runID))")
            } else if result.upToDate {
                printError("dataset already complete at \(result.directory) (version \(result.manifest.version)); nothing to do. Use --force to rebuild. (run \(result.runID))")
            } else {
                let rate = result.seconds > 0 ? Double(result.inputBytes) / result.seconds / 1e6 : 0
                printError(Funnel.render(result.manifest, directory: result.directory))
                var notes: [String] = []
                if result.unitsReused > 0 {
                    notes.append(phase == .reduce ? "reduce: \(result.unitsReused) unit(s) committed by the map tasks"
                                                  : "resumed: \(result.unitsReused) unit(s) taken from the interrupted run")
                }
                if result.skippedInputs > 0 { notes.append("incremental: \(result.skippedInputs) input(s) already published, skipped (--full reads them)") }
                let report = (result.directory as NSString).appendingPathComponent("report.html")
                if !noReport && FileManager.default.fileExists(atPath: report) { notes.append("report: \(report)") }
                for note in notes { printError(note) }
                printError(String(format: "time: %.2f s, %.1f MB/s of input, %d worker(s); run %lld in %@", result.seconds, rate,
                                  options.workers, result.runID, plan.spec.catalogPath))
            }
        } catch let error as RefineryError where error.code == .stopped {
            printError("error: \(error)")
            throw ExitCode(128 + (RunStop.receivedSignal ?? SIGTERM))
        } catch let error as RefineryError where error.code != .output && error.code != .input && error.code != .internal {
            printError("error: \(error)")
            throw ExitCode(Self.exitCode(error))
        } catch {
            printError("error: run failed: \(error)")
            printError("no new manifest was written: the folder holds no new dataset version.")
            let committed = (try? Catalog.openReadOnly(path: plan.spec.catalogPath).committedUnits(outputDirectory: plan.spec.output.root).count) ?? 0
            if committed > 0 {
                printError("\(committed) work unit(s) are committed: once the cause is fixed, the same command resumes from them.")
            }
            throw ExitCode(1)
        }
    }

    /// `--phase map`: one map task; prints what it committed.
    private func runMapTask(plan: RunPlan, options: RunOptions, logger: Logger) throws {
        do {
            let result = try Engine(plan: plan, options: options, logger: logger).runMapTask()
            let task = "map task \(result.task) of \(result.taskCount)"
            if result.upToDate {
                printError("\(task): dataset already complete at \(plan.directory) (version \(plan.version)); nothing to map.")
                return
            }
            let rate = result.seconds > 0 ? Double(result.inputBytes) / result.seconds / 1e6 : 0
            printError("\(task): \(result.units) unit(s), \(result.committed) read and committed (\(result.records) records), "
                + "\(result.reused) committed before; under \(result.workDirectory)")
            printError(String(format: "time: %.2f s, %.1f MB/s of input, %d worker(s)", result.seconds, rate, options.workers))
        } catch let error as RefineryError {
            printError("error: \(error)")
            if ![.usage, .busy, .resume, .spec].contains(error.code) {
                printError("the units this task committed stay committed: running the same task again resumes after them.")
            }
            throw ExitCode(Self.exitCode(error))
        }
    }

    /// `--phase dedup`: one dedup task; prints the bands it numbered.
    private func runDedupTask(plan: RunPlan, options: RunOptions, logger: Logger) throws {
        do {
            let result = try Engine(plan: plan, options: options, logger: logger).runDedupTask()
            let task = "dedup task \(result.task) of \(result.taskCount)"
            if let why = result.nothingToDo {
                printError("\(task): nothing to do: \(why).")
                return
            }
            if result.bands.isEmpty {
                printError("\(task): no band left for this task (the spec's dedup has fewer bands than --task-count); wrote an empty band file")
            } else {
                printError("\(task): bands \(result.bands.map(String.init).joined(separator: ",")), \(result.records) records, "
                    + "\(result.buckets.map(String.init).joined(separator: "/")) buckets; \(result.file)")
            }
            printError(String(format: "time: %.2f s, bucket tables %.1f MB", result.seconds, Double(result.tableBytes) / 1e6))
        } catch let error as RefineryError {
            printError("error: \(error)")
            throw ExitCode(Self.exitCode(error))
        }
    }

    /// `--phase resolve`: the resolve task; prints what it decided.
    private func runResolveTask(plan: RunPlan, options: RunOptions, logger: Logger) throws {
        do {
            let result = try Engine(plan: plan, options: options, logger: logger).runResolveTask()
            if let why = result.nothingToDo {
                printError("resolve: nothing to do: \(why).")
                return
            }
            printError("resolve: \(result.records) records, \(result.dropped) dropped by the global stages; fates under \(result.directory)")
            printError(String(format: "time: %.2f s", result.seconds))
        } catch let error as RefineryError {
            printError("error: \(error)")
            throw ExitCode(Self.exitCode(error))
        }
    }

    /// `--phase finalize`: one finalize task; prints what it made.
    private func runFinalizeTask(plan: RunPlan, options: RunOptions, logger: Logger) throws {
        do {
            let result = try Engine(plan: plan, options: options, logger: logger).runFinalizeTask()
            let task = "finalize task \(result.task) of \(result.taskCount)"
            if let why = result.nothingToDo {
                printError("\(task): nothing to do: \(why).")
                return
            }
            printError("\(task): \(result.units) unit(s), \(result.finalized) finalized (\(result.written) records to train and validation, "
                + "\(result.dropped) quarantined), \(result.reused) finalized before")
            printError(String(format: "time: %.2f s, %d worker(s)", result.seconds, options.workers))
        } catch let error as RefineryError {
            printError("error: \(error)")
            if ![.usage, .busy, .resume, .spec].contains(error.code) {
                printError("the units this task finalized stay finalized: running the same task again resumes after them.")
            }
            throw ExitCode(Self.exitCode(error))
        }
    }

    /// `--executor slurm`: writes the job scripts, submits them, prints the job ids.
    private func submitToSlurm(plan: RunPlan, options: RunOptions, logger: Logger) throws {
        let settings = SlurmExecutor.Settings(tasks: tasks ?? 4, cpusPerTask: workers ?? 1, partition: partition, time: time, memory: mem,
                                              binary: Self.executablePath())
        do {
            let outcome = try SlurmExecutor(plan: plan, options: options, settings: settings, logger: logger).submit()
            guard let submission = outcome.submission else {
                printError("dataset already complete at \(plan.directory) (version \(plan.version)); nothing submitted. Use --force to rebuild.")
                return
            }
            for job in outcome.cancelled { printError("cancelled \(job) of an earlier submission: a task it waited for had failed") }
            if let mapJob = submission.mapJob {
                let done = submission.taskCount - submission.mapTasks.count
                printError("submitted map job \(mapJob): array tasks \(submission.mapTasks.map(String.init).joined(separator: ",")) of \(submission.taskCount)"
                    + (done > 0 ? " (\(done) task(s) done before, not resubmitted)" : ""))
            } else {
                printError("every map task is done; submitted the phases after the map only")
            }
            if let dedupJob = submission.dedupJob {
                printError("submitted dedup job \(dedupJob): array tasks \(ArraySpec.text(submission.dedupSubmitted)) of \(submission.dedupTasks), "
                    + "the LSH bands shared among them")
            }
            if let resolveJob = submission.resolveJob { printError("submitted resolve job \(resolveJob)") }
            if let finalizeJob = submission.finalizeJob {
                printError("submitted finalize job \(finalizeJob): array tasks \(ArraySpec.text(submission.finalizeSubmitted)) of "
                    + "\(submission.finalizeTasks), the units shared among them")
            }
            let before = submission.finalizeJob.map { "finalize job \($0)" } ?? submission.resolveJob.map { "resolve job \($0)" }
                ?? submission.dedupJob.map { "dedup job \($0)" } ?? submission.mapJob.map { "map job \($0)" }
            printError("submitted reduce job \(submission.reduceJob)" + (before.map { " (after \($0) succeeds)" } ?? ""))
            printError("scripts and logs: \(submission.scriptsDirectory)")
            printError("follow it: refinery status \(submission.id) --catalog \(plan.spec.catalogPath)")
            print(submission.id)
        } catch let error as RefineryError {
            printError("error: \(error)")
            throw ExitCode(Self.exitCode(error))
        }
    }

    /// This binary's absolute path, for the job scripts.
    static func executablePath() -> String {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }

    /// The documented exit codes (README, "Exit codes").
    static func exitCode(_ error: RefineryError) -> Int32 {
        switch error.code {
        case .spec, .usage, .resume: 64
        case .catalog, .integrity: 65
        case .busy: 75
        default: 1
        }
    }
}
