import ArgumentParser
import RefineryCatalog

/// `refinery rollback DATASET`: put back the previous production version.
struct Rollback: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Retire the dataset's production version and make the one that was production before it production again.",
        discussion: "The earlier version's manifest and shards are verified first; gates are not evaluated again. Messages go to "
            + "stderr. " + CatalogOptions.exitCodes)

    @Argument(help: "The dataset's name.")
    var dataset: String

    @OptionGroup var location: CatalogOptions

    @OptionGroup var global: GlobalOptions

    func run() throws {
        _ = global.makeLogger()
        let catalog = try location.open(readOnly: false)
        do {
            let rollback = try catalog.rollback(dataset: dataset)
            printError("rolled back \(dataset): \(rollback.restored.label) is production again; \(rollback.retired.label) retired")
        } catch {
            throw CatalogFailure.exit(error)
        }
    }
}
