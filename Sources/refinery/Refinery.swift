import ArgumentParser
import RefineryShards

/// The `refinery` command: subcommands only, one file each.
@main
struct Refinery: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refinery",
        abstract: "Turn raw multi-source corpora into validated, deduplicated, balanced training shards.",
        version: Manifest.refineryVersion,
        subcommands: [Run.self, Inspect.self, Runs.self, Datasets.self, Show.self, Promote.self, Rollback.self, GC.self, Tokenizer.self,
                      Train.self, Generate.self, Eval.self, Export.self, Report.self, Diff.self, Recsys.self, Status.self])
}
