import ArgumentParser
import Foundation
import RefineryCatalog
import RefineryPipeline
import RefineryRecords
import RefineryReport
import RefineryShards

/// `refinery report DATASET_DIR | DATASET@VERSION`: the dataset's HTML report, and its numbers in `stats.json`.
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a dataset version's report: one self-contained HTML page (funnel, rejects with examples, mixes, "
            + "histograms, duplicate clusters, shards, inputs and spec), and the same numbers under `report` in its stats.json.",
        discussion: "Without --out, writes report.html into the dataset folder and updates its stats.json; with --out, writes only "
            + "the page, there. Every shard is verified against the manifest on the way. Prints the page's path to stdout. "
            + "Exit codes: 0 ok; 1 failure; 64 usage (no such folder, not a dataset, unknown version); 65 a shard not matching "
            + "its manifest, or a damaged catalog; 75 a run of the dataset is writing it (without --out).")

    @Argument(help: ArgumentHelp("A dataset folder (holding manifest.json), or DATASET@VERSION looked up in the catalog.",
                                 valueName: "dataset-dir|dataset@version"))
    var target: String

    @Option(name: .long, help: ArgumentHelp("Write the page to this file instead of the dataset folder (stats.json is then left alone).",
                                            valueName: "file"))
    var out: String?

    @Option(name: .long, help: ArgumentHelp("Rejects shown per stage and reason, and duplicate pairs shown.", valueName: "n"))
    var examples = 5

    @OptionGroup var location: CatalogOptions

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if examples < 0 { throw ValidationError("--examples must be 0 or more, got \(examples)") }
    }

    func run() throws {
        let logger = global.makeLogger()
        let directory = try location.datasetDirectory(target)
        guard FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent("manifest.json")) else {
            throw ValidationError("\(directory) holds no manifest.json: not a dataset folder (or a run that did not finish)")
        }
        do {
            let started = Date()
            let path: String
            if let out {
                let report = try DatasetReport.build(directory: directory, examplesPerReason: examples)
                try DatasetReport.writeHTML(report, to: out)
                path = out
            } else {
                // Writing into the dataset folder: not while a run (or gc) of the dataset writes there.
                let manifest = try Manifest.read(directory: directory)
                let lock = try Catalog.locate(listing: manifest, in: directory).map { catalog in
                    try RunLock.acquire(catalogPath: catalog.path, dataset: manifest.dataset) { try? catalog.runningRun(dataset: manifest.dataset) }
                }
                defer { lock?.release() }
                path = try DatasetReport.write(directory: directory, examplesPerReason: examples).htmlPath
            }
            logger.info("report written", metadata: ["report.path": "\(path)",
                                                     "report.seconds": "\(String(format: "%.3f", Date().timeIntervalSince(started)))"])
            print(path)
        } catch {
            throw CatalogFailure.exit(error)
        }
    }
}
