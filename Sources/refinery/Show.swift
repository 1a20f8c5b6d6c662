import ArgumentParser
import Foundation
import RefineryCatalog

/// `refinery show RUN_ID | DATASET@VERSION`: everything the catalog knows about a run or a version.
struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a run (stage statistics, inputs, the version it wrote) or a dataset version (status history, the run "
            + "and inputs that produced it, training runs that used it).",
        discussion: "Goes to stdout; --json prints one JSON object instead. " + CatalogOptions.exitCodes)

    @Argument(help: ArgumentHelp("A run id (see `refinery runs`) or DATASET@VERSION (see `refinery datasets`).", valueName: "run-id|dataset@version"))
    var target: String

    @OptionGroup var location: CatalogOptions

    @Flag(name: .long, help: "Print a JSON object (keys are the catalog's column names).")
    var json = false

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if Int64(target) == nil && VersionLabel(argument: target) == nil {
            throw ValidationError("expected a run id (e.g. 12) or DATASET@VERSION (e.g. demo@v-1a2b3c), got '\(target)'")
        }
    }

    func run() throws {
        _ = global.makeLogger()
        let catalog = try location.open(readOnly: true)
        do {
            if let id = Int64(target) {
                let details = try catalog.details(runID: id)
                if json { return try printJSON(details) }
                print(render(details))
            } else if let label = VersionLabel(argument: target) {
                let details = try catalog.details(dataset: label.dataset, version: label.version)
                if json { return try printJSON(details) }
                print(render(details))
            }
        } catch {
            throw CatalogFailure.exit(error)
        }
    }

    private func render(_ details: Catalog.RunDetails) -> String {
        let run = details.run
        var lines = ["run \(run.id): \(run.status.rawValue)"]
        lines += fields([
            ("spec", "\(run.specName) (\(run.specPath), hash \(run.specHash))"),
            ("dataset", run.label),
            ("output", run.outputDirectory),
            ("started", CatalogText.time(run.startedAt)),
            ("ended", run.endedAt.map { "\(CatalogText.time($0)) (\(CatalogText.duration(run.seconds)))" } ?? "-"),
            ("host", "\(run.host), pid \(run.pid)"),
            ("refinery", run.refineryVersion),
            ("command", run.command),
            ("records", "read \(CatalogText.count(run.recordsRead)), written \(CatalogText.count(run.recordsWritten)), "
                + "quarantined \(CatalogText.count(run.recordsQuarantined))"),
        ] + (run.error.map { [("error", $0)] } ?? []))
        if !details.stages.isEmpty {
            var table = TextTable(["stage", "in", "out", "dropped", "bytes in", "bytes out", "seconds", "reasons"], rightAligned: [1, 2, 3, 4, 5, 6])
            for stage in details.stages {
                let reasons = stage.dropped.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }
                    .map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                table.append([stage.stage, "\(stage.recordsIn)", "\(stage.recordsOut)", "\(stage.dropped.values.reduce(0, +))",
                              "\(stage.bytesIn)", "\(stage.bytesOut)", String(format: "%.2f", stage.seconds), reasons])
            }
            lines += ["", table.render()]
        }
        lines += inputs(details.inputs)
        lines.append("")
        lines += details.versions.isEmpty
            ? ["wrote no dataset version the catalog records"]
            : details.versions.map { "wrote \($0.label) (\($0.status.rawValue)): \($0.manifestPath)" }
        return lines.joined(separator: "\n")
    }

    private func render(_ details: Catalog.VersionDetails) -> String {
        let version = details.version
        var lines = ["\(version.label): \(version.status.rawValue)"]
        lines += fields([
            ("manifest", "\(version.manifestPath) (xxh3 \(version.manifestHash))"),
            ("created", CatalogText.time(version.createdAt)),
            ("files", version.filesRemovedAt.map { "removed by gc at \(CatalogText.time($0))" } ?? "present"),
        ])
        var history = TextTable(["at", "from", "to", "command"])
        for change in details.history {
            history.append([CatalogText.time(change.at), change.from?.rawValue ?? "-", change.to.rawValue, change.command])
        }
        lines += ["", history.render(), ""]
        if let run = details.run {
            lines.append("produced by run \(run.id) (\(run.status.rawValue), started \(CatalogText.time(run.startedAt))) "
                + "from spec \(run.specName) at \(run.specPath), hash \(run.specHash)")
        } else {
            lines.append("produced by run \(version.runID), which the catalog no longer holds")
        }
        lines += inputs(details.inputs)
        lines.append("")
        if details.trainingRuns.isEmpty {
            lines.append("no training run recorded on this version")
        } else {
            var table = TextTable(["training run", "status", "started", "datasets", "output"], rightAligned: [0])
            for training in details.trainingRuns {
                table.append(["\(training.id)", training.status.rawValue, CatalogText.time(training.startedAt),
                              training.datasets.joined(separator: ", "), training.outputDirectory])
            }
            lines.append(table.render())
        }
        return lines.joined(separator: "\n")
    }

    private func fields(_ pairs: [(String, String)]) -> [String] {
        let width = pairs.map(\.0.count).max() ?? 0
        return pairs.map { "  " + $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.1 }
    }

    private func inputs(_ inputs: [Catalog.InputRecord]) -> [String] {
        guard !inputs.isEmpty else { return ["", "no inputs recorded"] }
        var table = TextTable(["source", "input", "bytes", "xxh3"], rightAligned: [2])
        for input in inputs { table.append([input.source, input.path, "\(input.size)", input.xxh3]) }
        return ["", table.render()]
    }
}
