import ArgumentParser
import RefineryCatalog

/// `refinery runs`: the catalog's pipeline runs, newest first.
struct Runs: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List pipeline runs, newest first: status, dataset@version, timing, counts, error.",
        discussion: "The table goes to stdout; --json prints a JSON array of runs instead. " + CatalogOptions.exitCodes)

    @OptionGroup var location: CatalogOptions

    @Option(name: .long, help: "Show at most N runs (0: all).")
    var limit: Int = 20

    @Flag(name: .long, help: "Print a JSON array (keys are the catalog's column names).")
    var json = false

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if limit < 0 { throw ValidationError("--limit must be 0 or more, got \(limit)") }
    }

    func run() throws {
        _ = global.makeLogger()
        let catalog = try location.open(readOnly: true)
        do {
            let runs = try catalog.runs(limit: limit == 0 ? nil : limit)
            if json { return try printJSON(runs) }
            guard !runs.isEmpty else { return printError("catalog \(catalog.path) records no runs yet") }
            var table = TextTable(["id", "status", "dataset@version", "started", "duration", "read", "written", "quarantined", "error"],
                                  rightAligned: [0, 4, 5, 6, 7])
            for run in runs {
                table.append(["\(run.id)", run.status.rawValue, run.label, CatalogText.time(run.startedAt), CatalogText.duration(run.seconds),
                              CatalogText.count(run.recordsRead), CatalogText.count(run.recordsWritten),
                              CatalogText.count(run.recordsQuarantined), CatalogText.short(run.error)])
            }
            print(table.render())
        } catch {
            throw CatalogFailure.exit(error)
        }
    }
}
