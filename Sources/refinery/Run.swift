import ArgumentParser
import Foundation
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

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if let workers, workers < 1 { throw ValidationError("--workers must be at least 1, got \(workers)") }
    }

    func run() throws {
        let logger = global.makeLogger()
        let plan: RunPlan
        do {
            let loaded = try PipelineSpec.load(path: spec)
            plan = try RunPlan.make(spec: loaded)
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
                if result.unitsReused > 0 { notes.append("resumed: \(result.unitsReused) unit(s) taken from the interrupted run") }
                if result.skippedInputs > 0 { notes.append("incremental: \(result.skippedInputs) input(s) already published, skipped (--full reads them)") }
                let report = (result.directory as NSString).appendingPathComponent("report.html")
                if !noReport && FileManager.default.fileExists(atPath: report) { notes.append("report: \(report)") }
                for note in notes { printError(note) }
                printError(String(format: "time: %.2f s, %.1f MB/s of input, %d worker(s); run %lld in %@", result.seconds, rate,
                                  options.workers, result.runID, plan.spec.catalogPath))
            }
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
