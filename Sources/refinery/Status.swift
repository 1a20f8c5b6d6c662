import ArgumentParser
import Foundation
import RefineryCatalog
import RefineryPipeline
import RefineryRecords

/// `refinery status [SUBMISSION]`: how far a run submitted to Slurm got.
struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Follow a run submitted with --executor slurm: each map task's units and Slurm state, the reduce, the dataset.",
        discussion: "SUBMISSION is the number `refinery run --executor slurm` printed (default: the newest). Task states come from "
            + "`scontrol show job` while Slurm remembers the job; units come from the catalog and the tasks' markers. "
            + CatalogOptions.exitCodes)

    @Argument(help: "The submission's number (default: the newest).")
    var submission: Int64?

    @OptionGroup var location: CatalogOptions

    @OptionGroup var global: GlobalOptions

    func run() throws {
        _ = global.makeLogger()
        let catalog = try location.open(readOnly: true)
        do {
            let chosen: Catalog.Submission
            if let submission {
                guard let found = try catalog.submission(submission) else {
                    throw RefineryError(.usage, "catalog \(catalog.path) has no submission \(submission)")
                }
                chosen = found
            } else {
                guard let newest = try catalog.submissions().first else {
                    throw RefineryError(.usage, "catalog \(catalog.path) records no submissions; `refinery run SPEC --executor slurm` makes one")
                }
                chosen = newest
            }
            print(Self.render(try SubmissionStatus.read(chosen, catalog: catalog)))
        } catch {
            throw CatalogFailure.exit(error)
        }
    }

    static func list(_ tasks: [Int]) -> String { tasks.map(String.init).joined(separator: ", ") }

    static func render(_ status: SubmissionStatus) -> String {
        let submission = status.submission
        var lines = ["submission \(submission.id): \(submission.executor), \(submission.dataset)@\(submission.version), submitted \(CatalogText.time(submission.submittedAt))",
                     "spec: \(submission.specPath)"]
        lines.append("map job: \(submission.mapJob ?? "none (every task was done)"), "
            + (submission.dedupJob.map { "dedup job: \($0), " } ?? "") + (submission.resolveJob.map { "resolve job: \($0), " } ?? "")
            + (submission.finalizeJob.map { "finalize job: \($0), " } ?? "") + "reduce job: \(submission.reduceJob)")
        var table = TextTable(["task", "units", "committed", "slurm", "log"], rightAligned: [0, 1, 2])
        for task in status.tasks {
            let state = task.state.map { state in state + (task.exitCode.map { $0 == "0:0" ? "" : " (exit \($0))" } ?? "") }
                ?? (submission.mapTasks.contains(task.index) ? "-" : "done before")
            table.append(["\(task.index)", "\(task.units)", "\(task.committed)", state, task.log ?? ""])
        }
        lines.append(table.render())
        if !status.dedupTasks.isEmpty {
            // Tasks by Slurm state, e.g. "2 COMPLETED, 2 PENDING (Dependency)".
            var byState: [String: Int] = [:]
            for task in status.dedupTasks {
                let unknown = submission.dedupSubmitted.contains(task.index) ? "unknown to Slurm" : "done before"
                byState[(task.state ?? unknown) + (task.reason.map { " (\($0))" } ?? ""), default: 0] += 1
            }
            let states = byState.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            lines.append("dedup: \(status.dedupTasks.count) task(s) sharing the LSH bands: \(states); "
                + "band files written: \(status.dedupTasks.filter(\.written).count) of \(status.dedupTasks.count)")
        }
        if submission.finalizeTasks > 0 {
            let resolve = submission.resolveJob == nil ? "done before" : status.resolveState.map { $0 + (status.resolveReason.map { " (\($0))" } ?? "") }
            lines.append("resolve: " + (resolve ?? "unknown to Slurm"))
            var byState: [String: Int] = [:]
            for (index, state) in status.finalizeStates.enumerated() {
                byState[state ?? (submission.finalizeSubmitted.contains(index) ? "unknown to Slurm" : "done before"), default: 0] += 1
            }
            lines.append("finalize: \(status.finalizeStates.count) task(s) sharing the units: "
                + byState.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
        }
        let reduce = status.reduceState.map { $0 + (status.reduceReason.map { " (\($0))" } ?? "") } ?? "unknown to Slurm"
        lines.append("reduce: \(reduce); log \(status.reduceLog)")
        if let written = status.written {
            lines.append("dataset: written by run \(written.runID) at \((written.manifestPath as NSString).deletingLastPathComponent)")
        } else {
            let done = status.tasks.filter(\.isDone).count
            lines.append("dataset: not written yet; \(done) of \(status.tasks.count) map task(s) have every unit committed")
            let failed = status.failedTasks, unfinished = status.unfinishedTasks
            let reduceStuck = status.reduceState == "PENDING" && (!failed.isEmpty || status.reduceReason == "DependencyNeverSatisfied")
            if !failed.isEmpty { lines.append("map task(s) \(Self.list(failed)) failed (see their logs)") }
            if reduceStuck || (!unfinished.isEmpty && status.reduceState.map { !["RUNNING", "COMPLETING"].contains($0) } ?? true) {
                if reduceStuck { lines.append("the reduce job \(submission.reduceJob) can never start: a task of a phase before it failed") }
                let after = submission.dedupJob == nil && submission.resolveJob == nil ? "the reduce" : "the phases after the map"
                let what = unfinished.isEmpty ? "\(after) only (every unit is committed)"
                    : "map task(s) \(Self.list(unfinished)) alone (they resume after their committed units), and \(after)"
                lines.append("resubmit: the same command (`\(submission.command)`) submits \(what)")
            }
        }
        return lines.joined(separator: "\n")
    }
}
