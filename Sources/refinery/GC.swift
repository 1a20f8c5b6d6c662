import ArgumentParser
import RefineryCatalog
import RefineryPipeline

/// `refinery gc DATASET --keep N`: remove the files of old retired versions.
struct GC: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Delete the files of retired versions of a dataset, keeping the N most recently retired.",
        discussion: "Production and candidate versions are never touched. A folder whose manifest.json now names another version "
            + "keeps its files; the old version is only marked. The catalog keeps every version's row. What goes is listed on "
            + "stdout. " + CatalogOptions.exitCodes)

    @Argument(help: "The dataset's name.")
    var dataset: String

    @Option(name: .long, help: "Retired versions whose files stay, most recently retired first.")
    var keep: Int

    @Flag(name: .long, help: "List what would be deleted; change nothing.")
    var dryRun = false

    @OptionGroup var location: CatalogOptions

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if keep < 0 { throw ValidationError("--keep must be 0 or more, got \(keep)") }
    }

    func run() throws {
        _ = global.makeLogger()
        let catalog = try location.open(readOnly: false)
        do {
            // No run may write the dataset while its files go (a --force rebuild writes the same names).
            let lock = dryRun ? nil : try RunLock.acquire(catalogPath: catalog.path, dataset: dataset) {
                try? catalog.runningRun(dataset: dataset)
            }
            defer { lock?.release() }
            let collection = try catalog.gc(dataset: dataset, keep: keep, dryRun: dryRun)
            if collection.removed.isEmpty {
                return printError("nothing to delete: \(dataset) has \(collection.kept.count) retired version(s) with files, keeping \(keep)")
            }
            var table = TextTable(["version", "files", "folder", "note"], rightAligned: [1])
            for removal in collection.removed {
                let folder = removal.folderRemoved ? "\(removal.version.directory) (removed)" : removal.version.directory
                table.append([removal.version.label, "\(removal.files.count)", folder, removal.note ?? ""])
            }
            print(table.render())
            let verb = dryRun ? "would delete" : "deleted"
            printError("\(verb) the files of \(collection.removed.count) retired version(s) of \(dataset); kept \(collection.kept.count)"
                + (dryRun ? " (dry run: nothing changed)" : ""))
        } catch {
            throw CatalogFailure.exit(error)
        }
    }
}
