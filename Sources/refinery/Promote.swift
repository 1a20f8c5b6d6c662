import ArgumentParser
import RefineryCatalog

/// `refinery promote DATASET@VERSION`: make a verified version production.
struct Promote: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make a dataset version production, after verifying its manifest and shards and passing the spec's gates.",
        discussion: "The gates are the `gates:` of the spec stored in the version's manifest, and those of the production "
            + "version's spec when they differ; category shares are compared with the current production version, which is "
            + "retired. Messages go to stderr. " + CatalogOptions.exitCodes)

    @Argument(help: ArgumentHelp("The version to promote, e.g. demo@v-1a2b3c (`refinery datasets` lists them).", valueName: "dataset@version"))
    var label: VersionLabel

    @OptionGroup var location: CatalogOptions

    @OptionGroup var global: GlobalOptions

    func run() throws {
        _ = global.makeLogger()
        let catalog = try location.open(readOnly: false)
        do {
            let promotion = try catalog.promote(dataset: label.dataset, version: label.version)
            if promotion.alreadyProduction {
                return printError("\(promotion.promoted.label) is already production; nothing changed")
            }
            if promotion.gates.isEmpty { printError("no gates declared in the version's spec") }
            for result in promotion.gates { printError("  \(result)") }
            printError("promoted \(promotion.promoted.label) to production"
                + (promotion.retired.map { "; \($0.label) retired" } ?? "; there was no production version before"))
        } catch {
            throw CatalogFailure.exit(error)
        }
    }
}
