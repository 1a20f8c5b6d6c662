import ArgumentParser
import Foundation
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
            throw ExitCode(error.code == .spec ? 64 : 1)
        }
        if dryRun {
            print(plan.description)
            return
        }
        var options = RunOptions(force: force)
        if let workers { options.workers = workers }
        logger.info("run started", metadata: ["spec.path": "\(spec)", "dataset.version": "\(plan.version)", "workers": "\(options.workers)"])
        do {
            let result = try Engine(plan: plan, options: options, logger: logger).run()
            if result.upToDate {
                printError("dataset already complete at \(result.directory) (version \(result.manifest.version)); nothing to do. Use --force to rebuild.")
            } else {
                let rate = result.seconds > 0 ? Double(result.inputBytes) / result.seconds / 1e6 : 0
                printError(Funnel.render(result.manifest, directory: result.directory))
                printError(String(format: "time: %.2f s, %.1f MB/s of input, %d worker(s)", result.seconds, rate, options.workers))
            }
        } catch {
            printError("error: run failed: \(error)")
            printError("no new manifest was written: the folder holds no new dataset version.")
            throw ExitCode(1)
        }
    }
}
