import ArgumentParser
import Foundation
import RefineryReport

/// `refinery diff OLD NEW`: how far a dataset version moved from another.
struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare two dataset versions: category and language shares, score, length and reward distributions "
            + "(Jensen–Shannon divergence, the bins that moved), and the fraction of records and word 5-grams that are new.",
        discussion: "Text tables on stdout (JSON with --json); an HTML page with --html. Every shard of both versions is verified. "
            + "Exit codes: 0 ok; 3 a --max-… threshold was exceeded (so that a nightly job stops before training); 1 failure; "
            + "64 usage; 65 a shard not matching its manifest, or a damaged catalog.")

    @Argument(help: ArgumentHelp("The old version: a dataset folder, or DATASET@VERSION looked up in the catalog.", valueName: "old"))
    var old: String

    @Argument(help: ArgumentHelp("The new version, likewise.", valueName: "new"))
    var new: String

    @Option(name: .long, help: ArgumentHelp("Also write the comparison as an HTML page.", valueName: "file"))
    var html: String?

    @Flag(name: .long, help: "Print JSON instead of text tables.")
    var json = false

    @Option(name: .long, help: ArgumentHelp("Largest change of a category's or language's share, e.g. 0.05 (five points).", valueName: "share"))
    var maxShareChange: Double?

    @Option(name: .long, help: ArgumentHelp("Largest Jensen–Shannon divergence of any distribution (0–1).", valueName: "bits"))
    var maxDivergence: Double?

    @Option(name: .long, help: ArgumentHelp("Largest fraction of new records not in the old version (0–1).", valueName: "fraction"))
    var maxNewRecords: Double?

    @Option(name: .long, help: ArgumentHelp("Largest fraction of new word 5-grams not in the old version (0–1).", valueName: "fraction"))
    var maxNewNgrams: Double?

    @OptionGroup var location: CatalogOptions

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        for (name, value) in [("--max-share-change", maxShareChange), ("--max-divergence", maxDivergence),
                              ("--max-new-records", maxNewRecords), ("--max-new-ngrams", maxNewNgrams)] {
            if let value, !(0...1).contains(value) { throw ValidationError("\(name) must be between 0 and 1, got \(value)") }
        }
    }

    func run() throws {
        _ = global.makeLogger()
        let oldDirectory = try location.datasetDirectory(old)
        let newDirectory = try location.datasetDirectory(new)
        let diff: DatasetDiff
        do {
            diff = try DatasetDiff.compare(old: oldDirectory, new: newDirectory, thresholds: DatasetDiff.Thresholds(
                maxShareChange: maxShareChange, maxDivergence: maxDivergence, maxNewRecords: maxNewRecords, maxNewNgrams: maxNewNgrams))
            if let html { try Data(diff.html.utf8).write(to: URL(fileURLWithPath: html)) }
        } catch {
            throw CatalogFailure.exit(error)
        }
        if json {
            print(String(decoding: try diff.json(), as: UTF8.self))
        } else {
            print(DiffText.render(diff))
        }
        if let html { printError("html: \(html)") }
        if !diff.breaches.isEmpty {
            printError("error: \(diff.breaches.count) threshold(s) exceeded: " + diff.breaches.map(\.description).joined(separator: "; "))
            throw ExitCode(3)
        }
    }
}
