import Foundation
import Logging
import RefineryCatalog
import RefineryCodecs
import RefineryRecords
import RefineryShards

/// `refinery run SPEC --executor slurm`: the run's phases handed to Slurm, which schedules them; Refinery does not.
/// It writes a batch script per phase and submits them, each waiting for the one before with
/// `--dependency=afterok`:
/// 1. a job array of the map tasks that are not done yet (`refinery run SPEC --phase map --task-index
///    $SLURM_ARRAY_TASK_ID --task-count N`);
/// 2. when the spec looks for near duplicates, a job array of dedup tasks (`--phase dedup`, the LSH bands shared
///    among at most N tasks);
/// 3. when the spec has a global stage, the resolve job (`--phase resolve`) and a job array of N finalize tasks
///    (`--phase finalize`, the units shared as the map shares them);
/// 4. the reduce (`--phase reduce`).
/// The submission is recorded in the catalog for `refinery status`.
///
/// Submitting again after a failure resubmits only the map tasks whose units are not all committed (a task that
/// finished is never redone; a failed one resumes from the units it committed) and the phases after them (a dedup
/// task whose band file is written, a resolve whose resolution matches, a finalize task whose units are finalized,
/// do nothing); the earlier jobs that wait for a failed task, and can never start, are cancelled.
public struct SlurmExecutor {
    /// What Slurm is asked for.
    public struct Settings: Sendable {
        /// Map tasks (array size).
        public var tasks: Int
        /// CPUs per task; each task runs that many workers.
        public var cpusPerTask: Int
        public var partition: String?
        /// Time limit per task (`--time`, e.g. `2:00:00`).
        public var time: String?
        /// Memory per task (`--mem`, e.g. `8G`).
        public var memory: String?
        /// The `refinery` binary the jobs run (an absolute path the compute nodes can reach).
        public var binary: String

        public init(tasks: Int, cpusPerTask: Int, partition: String? = nil, time: String? = nil, memory: String? = nil, binary: String) {
            self.tasks = tasks
            self.cpusPerTask = cpusPerTask
            self.partition = partition
            self.time = time
            self.memory = memory
            self.binary = binary
        }
    }

    /// What was submitted.
    public struct Outcome: Sendable {
        /// Recorded in the catalog (nil when nothing was submitted: the dataset is complete).
        public var submission: Catalog.Submission?
        /// Earlier dedup and reduce jobs cancelled because a task they waited for had failed ("dedup job 12").
        public var cancelled: [String] = []
        /// The dataset folder already holds this version.
        public var upToDate = false
    }

    public var plan: RunPlan
    public var options: RunOptions
    public var settings: Settings
    public var logger: Logger

    public init(plan: RunPlan, options: RunOptions, settings: Settings, logger: Logger) {
        self.plan = plan
        self.options = options
        self.settings = settings
        self.logger = logger
    }

    /// Writes the scripts, submits them, and records the submission.
    /// - Throws: ``RefineryError``: Slurm's commands are missing or refuse the jobs (code `usage`, with their
    ///   message), an earlier submission of this version is still queued or running (code `busy`), committed work
    ///   of another spec is in the way (code `resume`), the catalog cannot be written.
    public func submit() throws -> Outcome {
        guard settings.tasks >= 1 else { throw RefineryError(.usage, "--tasks must be at least 1, got \(settings.tasks)") }
        let catalog = try Catalog(path: plan.spec.catalogPath)
        let plan = try RunSession.incrementalPlan(self.plan, catalog: catalog, full: options.full)
        let dataset = plan.spec.output.dataset
        let root = plan.spec.output.root
        let specHash = XXH3.hex(plan.spec.configHash)
        // The reduce's refusals, now rather than after hours of map tasks: another version in a fixed folder
        // (without --force), or --force over the production version.
        if !options.force, try Engine(plan: plan, options: options, logger: logger).prepareFolder(plan.directory) != nil {
            return Outcome(upToDate: true)
        }
        if options.force, let existing = try? Manifest.read(directory: plan.directory), existing.version != plan.version,
           try catalog.production(dataset: existing.dataset)?.version == existing.version {
            throw RefineryError(.output, "\(plan.directory) holds \(existing.dataset)@\(existing.version), the production version; --force would delete it. "
                + "Promote another version first, or write each version to its own folder with {version} in output.dir",
                at: SourceLocation(file: plan.spec.file))
        }
        if let other = try catalog.committedUnits(outputDirectory: root).first(where: { $0.specHash != specHash }) {
            throw RefineryError(.resume,
                "\(root) holds work units committed by interrupted run \(other.runID) of another spec (config hash \(other.specHash)); "
                + "pass --restart to discard them and start over", at: SourceLocation(file: plan.spec.file))
        }

        // What each task owns, and which tasks are done.
        let units = WorkUnit.units(of: plan)
        let shares = TaskPartition.assign(units, tasks: settings.tasks).map { $0.map { units[$0] } }

        // An earlier submission of this version: refuse while it is queued or running, except a reduce that waits
        // for a map task that failed (it can never start: cancel it).
        // Submissions of other versions share the `.work` folder (its reduce removes it): refused while active too.
        var cancelled: [String] = []
        for earlier in try catalog.submissions(dataset: dataset) {
            let states = try SlurmCommand.states(of: [earlier.mapJob, earlier.dedupJob, earlier.resolveJob, earlier.finalizeJob,
                                                      earlier.reduceJob].compactMap { $0 })
            let mapStates = states.filter { $0.key.hasPrefix("\(earlier.mapJob ?? "-")_") }.map(\.value)
            if earlier.version != plan.version {
                if states.values.contains(where: \.isActive) {
                    throw RefineryError(.busy, "submission \(earlier.id) of \(dataset)@\(earlier.version) is still queued or running, and shares "
                        + "the committed work folder with this one; wait for it (`refinery status \(earlier.id)`), or cancel its jobs with scancel")
                }
                continue
            }
            if mapStates.contains(where: \.isActive) {
                throw RefineryError(.busy, "submission \(earlier.id) of \(dataset)@\(plan.version) still has map tasks queued or running "
                    + "(job \(earlier.mapJob ?? "")); wait for them (`refinery status \(earlier.id)`), or cancel them with scancel first")
            }
            // Jobs still pending behind a failed (or cancelled) one can never start: cancelled. Any other active
            // one is waited for.
            var upstreamFailed = mapStates.contains(where: \.isFailed)
            let chain = [("dedup", earlier.dedupJob), ("resolve", earlier.resolveJob), ("finalize", earlier.finalizeJob),
                         ("reduce", Optional(earlier.reduceJob))]
            for case let (phase, job?) in chain {
                let jobStates = states.filter { $0.key == job || $0.key.hasPrefix("\(job)_") }.map(\.value)
                if jobStates.contains(where: \.isActive) {
                    // Tasks still running (even beside failed ones) are waited for: a new task would meet their locks.
                    let neverStarts = jobStates.allSatisfy {
                        !$0.isActive || ($0.state == "PENDING" && ($0.reason == "DependencyNeverSatisfied" || upstreamFailed))
                    }
                    guard neverStarts else {
                        throw RefineryError(.busy, "submission \(earlier.id)'s \(phase) job \(job) is queued or running; "
                            + "wait for it (`refinery status \(earlier.id)`), or cancel it with scancel first")
                    }
                    _ = try SlurmCommand.run("scancel", [job])
                    cancelled.append("\(phase) job \(job)")
                    upstreamFailed = true
                }
                if jobStates.contains(where: \.isFailed) { upstreamFailed = true }
            }
        }
        // Only now, with nothing of an earlier submission running: --restart discards the committed work.
        var committed = try UnitStore.committedKeys(root: root, specHash: specHash, catalog: catalog)
        if options.restart {
            try UnitStore.discard(root: root, catalog: catalog)
            committed = []
        }
        let pending = shares.indices.filter { task in shares[task].contains { !committed.contains($0.key) } }

        let id = try catalog.nextSubmissionID()
        let folder = Self.scriptsFolder(catalogPath: plan.spec.catalogPath, dataset: dataset, version: plan.version)
        let logs = (folder as NSString).appendingPathComponent("logs")
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        let specPath = URL(fileURLWithPath: plan.spec.file).standardizedFileURL.path
        let mapScript = (folder as NSString).appendingPathComponent("map-\(id).sbatch")
        let reduceScript = (folder as NSString).appendingPathComponent("reduce-\(id).sbatch")
        let dedupScript = (folder as NSString).appendingPathComponent("dedup-\(id).sbatch")
        // The inputs' fingerprints, so that no task reads every input to fingerprint it again.
        let hashesFile = (folder as NSString).appendingPathComponent("inputs-\(id).json")
        try InputHashes(plan: self.plan).write(to: hashesFile)
        // The dedup phase: the LSH bands shared among as many tasks as map tasks, at most one band each.
        let dedupTasks = plan.dedup.map { $0.near ? min(settings.tasks, $0.hasher.bands) : 0 } ?? 0
        // The resolve and finalize phases, when a global stage decides over the whole run.
        let finalizeTasks = plan.hasGlobalStages ? settings.tasks : 0
        // What is done already, once no map task is left: each phase after the map reads every unit, so a map task
        // to run means every later task runs again.
        let later = try Self.laterWork(plan: plan, shares: shares, mapDone: pending.isEmpty, dedupTasks: dedupTasks,
                                       finalizeTasks: finalizeTasks, catalog: catalog, logger: logger)
        let resolveScript = (folder as NSString).appendingPathComponent("resolve-\(id).sbatch")
        let finalizeScript = (folder as NSString).appendingPathComponent("finalize-\(id).sbatch")
        let pin = ["--expect-version", plan.version, "--input-hashes", hashesFile]
        try write(Self.script(phase: "map", settings: settings,
                              command: [settings.binary, "run", specPath, "--phase", "map", "--task-index", "$SLURM_ARRAY_TASK_ID",
                                        "--task-count", "\(settings.tasks)", "--workers", "\(settings.cpusPerTask)"] + pin + flags(reduce: false)),
                  to: mapScript)
        if dedupTasks > 0 {
            try write(Self.script(phase: "dedup", settings: settings,
                                  command: [settings.binary, "run", specPath, "--phase", "dedup", "--task-index", "$SLURM_ARRAY_TASK_ID",
                                            "--task-count", "\(dedupTasks)"] + pin + flags(reduce: false)),
                      to: dedupScript)
        }
        if finalizeTasks > 0 {
            try write(Self.script(phase: "resolve", settings: settings,
                                  command: [settings.binary, "run", specPath, "--phase", "resolve"] + pin + flags(reduce: false)),
                      to: resolveScript)
            try write(Self.script(phase: "finalize", settings: settings,
                                  command: [settings.binary, "run", specPath, "--phase", "finalize", "--task-index", "$SLURM_ARRAY_TASK_ID",
                                            "--task-count", "\(finalizeTasks)", "--workers", "\(settings.cpusPerTask)"] + pin + flags(reduce: false)),
                      to: finalizeScript)
        }
        try write(Self.script(phase: "reduce", settings: settings,
                              command: [settings.binary, "run", specPath, "--phase", "reduce", "--workers", "\(settings.cpusPerTask)"]
                                  + pin + flags(reduce: true)),
                  to: reduceScript)
        // The job name and log path go as arguments, not `#SBATCH` lines: no shell parses them (`%` is doubled:
        // sbatch expands it in --output).
        let name = Self.jobName(dataset)
        let logPath = { (file: String) in (logs as NSString).appendingPathComponent(file).replacingOccurrences(of: "%", with: "%%") }

        var mapJob: String?
        if !pending.isEmpty {
            mapJob = try SlurmCommand.jobID(fromParsable: SlurmCommand.run("sbatch", [
                "--parsable", "--array=\(ArraySpec.text(pending))", "--job-name=refinery-map-\(name)",
                "--output=\(logPath("map-\(id)-"))%a.out", mapScript]))
        }
        // Each phase after the map waits for the job before it.
        var last = mapJob
        var submitted = [mapJob].compactMap { $0 }
        func submitPhase(_ phase: String, script: String, tasks: [Int]?) throws -> String {
            var arguments = ["--parsable", "--job-name=refinery-\(phase)-\(name)"]
            if let tasks {
                arguments += ["--array=\(ArraySpec.text(tasks))", "--output=\(logPath("\(phase)-\(id)-"))%a.out"]
            } else {
                arguments.append("--output=\(logPath("\(phase)-\(id).out"))")
            }
            if let last { arguments.append("--dependency=afterok:\(last)") }
            let job = try SlurmCommand.jobID(fromParsable: SlurmCommand.run("sbatch", arguments + [script]))
            submitted.append(job)
            last = job
            return job
        }
        var dedupJob: String?, resolveJob: String?, finalizeJob: String?
        let reduceJob: String
        do {
            if !later.dedup.isEmpty { dedupJob = try submitPhase("dedup", script: dedupScript, tasks: later.dedup) }
            if later.resolve { resolveJob = try submitPhase("resolve", script: resolveScript, tasks: nil) }
            if !later.finalize.isEmpty { finalizeJob = try submitPhase("finalize", script: finalizeScript, tasks: later.finalize) }
            reduceJob = try submitPhase("reduce", script: reduceScript, tasks: nil)
        } catch {
            for job in submitted.reversed() { _ = try? SlurmCommand.run("scancel", [job]) }
            throw error
        }
        var submission = Catalog.Submission(
            executor: "slurm", dataset: dataset, version: plan.version, specPath: specPath, specHash: specHash,
            outputDirectory: plan.directory, workRoot: root, taskCount: settings.tasks, taskUnits: shares.map { $0.map(\.key) },
            mapTasks: pending, mapJob: mapJob, reduceJob: reduceJob, scriptsDirectory: folder, command: options.command)
        submission.dedupJob = dedupJob
        submission.dedupTasks = dedupTasks
        submission.resolveJob = resolveJob
        submission.finalizeJob = finalizeJob
        submission.finalizeTasks = finalizeTasks
        submission.dedupSubmitted = dedupJob == nil ? [] : later.dedup
        submission.finalizeSubmitted = finalizeJob == nil ? [] : later.finalize
        submission.id = try catalog.recordSubmission(submission)
        logger.info("submitted to slurm", metadata: ["submission": "\(submission.id)", "map.job": "\(mapJob ?? "-")",
                                                     "map.tasks": "\(ArraySpec.text(pending))", "dedup.job": "\(dedupJob ?? "-")",
                                                     "resolve.job": "\(resolveJob ?? "-")", "finalize.job": "\(finalizeJob ?? "-")",
                                                     "reduce.job": "\(reduceJob)"])
        return Outcome(submission: submission, cancelled: cancelled)
    }

    /// The dedup and finalize tasks to submit, and whether the resolve is: all of them while a map task is left;
    /// otherwise only the dedup tasks without a band file of the current unit files, the resolve unless its
    /// resolution matches them (and no dedup task is left), and the finalize tasks with a unit not finalized from it.
    static func laterWork(plan: RunPlan, shares: [[WorkUnit]], mapDone: Bool, dedupTasks: Int, finalizeTasks: Int,
                          catalog: Catalog, logger: Logger) throws -> (dedup: [Int], resolve: Bool, finalize: [Int]) {
        var dedup = Array(0..<dedupTasks), resolve = finalizeTasks > 0, finalize = Array(0..<finalizeTasks)
        guard mapDone else { return (dedup, resolve, finalize) }
        let root = plan.spec.output.root, specHash = XXH3.hex(plan.spec.configHash)
        let work: Engine.CommittedWork
        do {
            work = try Engine.committedWork(plan, catalog: catalog)
        } catch let error as RefineryError where error.code == .resume {
            return (dedup, resolve, finalize)   // a unit is not committed (a task failed after its last commit): all again
        }
        let unitsDigest = work.unitsDigest, unitFiles = work.unitFiles
        dedup = dedup.filter { task in
            BandFiles.done(root: root, version: plan.version, specHash: specHash, task: task, of: dedupTasks, unitsDigest: unitsDigest) == nil
        }
        guard dedup.isEmpty, resolve,
              let (_, hash) = Engine(plan: plan, options: RunOptions(), logger: logger).currentResolution(unitFiles: unitFiles) else {
            return (dedup, resolve, finalize)
        }
        let directory = FinalizeFiles.directory(root: root, version: plan.version)
        finalize = finalize.filter { task in
            shares[task].contains { FinalizeFiles.finalized($0.key, directory: directory, resolution: hash, unitFile: unitFiles[$0.key]!) == nil }
        }
        return (dedup, false, finalize)
    }

    /// The run flags every task repeats: `--full` (the same plan as the submitter's), `--force` (map tasks map
    /// even over a complete folder, the reduce replaces it), and for the reduce `--no-report`.
    private func flags(reduce: Bool) -> [String] {
        var flags: [String] = []
        if options.full { flags.append("--full") }
        if options.force { flags.append("--force") }
        if reduce && !options.report { flags.append("--no-report") }
        return flags
    }

    private func write(_ text: String, to path: String) throws {
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw RefineryError(.output, "cannot write the job script: \(error.localizedDescription)", at: SourceLocation(file: path))
        }
    }

    /// Where a version's job scripts and logs go: `slurm/<dataset>/<version>/` beside the catalog (a folder every
    /// node must see, as the catalog's).
    static func scriptsFolder(catalogPath: String, dataset: String, version: String) -> String {
        let base = ((catalogPath as NSString).deletingLastPathComponent as NSString).appendingPathComponent("slurm")
        return ((base as NSString).appendingPathComponent(RunLock.fileName(dataset)) as NSString).appendingPathComponent(version)
    }

    /// A job name from a dataset name: letters, digits, `.`, `_` and `-`; anything else becomes `_`.
    static func jobName(_ dataset: String) -> String {
        String(dataset.unicodeScalars.map { scalar -> Character in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "._-".unicodeScalars.contains(scalar)) ? Character(scalar) : "_"
        })
    }

    /// A batch script: `#SBATCH` lines from the settings (values without spaces, checked by the CLI), then the
    /// command (arguments quoted for the shell, except `$SLURM_ARRAY_TASK_ID`, which the shell expands). The job
    /// name and the log path are given to sbatch as arguments.
    static func script(phase: String, settings: Settings, command: [String]) -> String {
        var lines = ["#!/bin/bash", "# Written by `refinery run --executor slurm`: the \(phase) phase."]
        lines.append("#SBATCH --cpus-per-task=\(settings.cpusPerTask)")
        lines.append("#SBATCH --ntasks=1")
        if let partition = settings.partition { lines.append("#SBATCH --partition=\(partition)") }
        if let time = settings.time { lines.append("#SBATCH --time=\(time)") }
        if let memory = settings.memory { lines.append("#SBATCH --mem=\(memory)") }
        lines.append("set -euo pipefail")
        lines.append("exec " + command.map { $0 == "$SLURM_ARRAY_TASK_ID" ? "\"$SLURM_ARRAY_TASK_ID\"" : shellQuote($0) }.joined(separator: " "))
        return lines.joined(separator: "\n") + "\n"
    }

    /// `text` as one shell word.
    static func shellQuote(_ text: String) -> String {
        let safe = text.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "/._-=:,+@%".unicodeScalars.contains($0) }
        return safe && !text.isEmpty ? text : "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
