import ArgumentParser
import RefineryCatalog
import RefineryRecords

/// `refinery datasets [NAME]`: dataset versions and their status.
struct Datasets: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List dataset versions, newest first: status, when created, the run that wrote them, records, manifest.",
        discussion: "The table goes to stdout; --json prints a JSON array of versions instead. " + CatalogOptions.exitCodes)

    @Argument(help: "Only this dataset's versions.")
    var name: String?

    @OptionGroup var location: CatalogOptions

    @Flag(name: .long, help: "Print a JSON array (keys are the catalog's column names).")
    var json = false

    @OptionGroup var global: GlobalOptions

    func run() throws {
        _ = global.makeLogger()
        let catalog = try location.open(readOnly: true)
        do {
            let versions = try catalog.versions(dataset: name)
            if json { return try printJSON(versions) }
            guard !versions.isEmpty else {
                let known = try catalog.datasetNames()
                if let name, !known.isEmpty {
                    throw RefineryError(.usage, "catalog \(catalog.path) has no dataset '\(name)'; it has: \(known.joined(separator: ", "))")
                }
                return printError("catalog \(catalog.path) records no dataset versions yet")
            }
            var table = TextTable(["dataset@version", "status", "created", "run", "records", "manifest"], rightAligned: [3, 4])
            for version in versions {
                let written = try catalog.run(id: version.runID)?.recordsWritten
                let status = version.filesRemovedAt == nil ? version.status.rawValue : "\(version.status.rawValue) (files removed)"
                table.append([version.label, status, CatalogText.time(version.createdAt), "\(version.runID)", CatalogText.count(written),
                              version.manifestPath])
            }
            print(table.render())
        } catch {
            throw CatalogFailure.exit(error)
        }
    }
}
