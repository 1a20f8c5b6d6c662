import Foundation
import RefineryCodecs
import RefineryRecords
import RefineryShards

/// Appends batch outputs to the train, validation and reject shard series of one dataset folder, and at the
/// end renames the shards into place and writes `stats.json` and, last, `manifest.json`.
final class DatasetWriter {
    let directory: String
    private let fileSystem: any OutputFileSystem
    private let train: ShardSeries
    private let validation: ShardSeries
    /// Reject series in stage order, `read` first.
    private let rejects: [(stage: String, series: ShardSeries)]
    private(set) var counters: [StageCounters]
    private(set) var seconds: [Double]
    private var sources: [SourceCounters]
    /// Files written by ``writeAtomically(_:name:)`` so far.
    private var written: [String] = []
    private var scoreKeys: Set<String> = []
    private var piiKeys: Set<String> = []
    /// Extra copies written by balancing (see ``Totals/repeats``).
    var repeats = 0
    /// The category mix before and after the global stages (see ``CategoryMix``); set when they ran.
    var categoryMix: [String: CategoryMix]?

    init(directory: String, plan: RunPlan, fileSystem: any OutputFileSystem) throws {
        self.directory = directory
        self.fileSystem = fileSystem
        let size = plan.spec.output.shardSize
        try fileSystem.makeDirectory((directory as NSString).appendingPathComponent("rejects"))
        train = ShardSeries(split: "train", directory: directory, prefix: "train", targetSize: size, fileSystem: fileSystem)
        validation = ShardSeries(split: "validation", directory: directory, prefix: "validation", targetSize: size, fileSystem: fileSystem)
        let stageNames = plan.stageNames
        rejects = stageNames.map { name in
            (name, ShardSeries(split: name, directory: directory, prefix: "rejects/\(name)", targetSize: size, fileSystem: fileSystem))
        }
        counters = stageNames.map { StageCounters(name: $0) }
        seconds = Array(repeating: 0, count: stageNames.count + 1)
        sources = plan.spec.sources.enumerated().map { index, source in
            SourceCounters(name: source.name, kind: source.kind, files: plan.files.filter { $0.sourceIndex == index }.count)
        }
    }

    /// Appends one batch's output; batches must come in order.
    func append(_ output: BatchOutput) throws {
        if let failure = output.failure {
            throw RefineryError(.internal, "batch \(output.index) failed: \(failure)")
        }
        scoreKeys.formUnion(output.train.scoreKeys)
        piiKeys.formUnion(output.train.piiKeys)
        try train.append(output.train)
        try validation.append(output.validation)
        for (stage, series) in rejects {
            if let piece = output.rejects[stage] { try series.append(piece) }
        }
        for i in counters.indices where i < output.counters.count { counters[i].merge(output.counters[i]) }
        for (reason, count) in output.globalDropped {
            sources[output.sourceIndex].dropped[reason, default: 0] += count
            sources[output.sourceIndex].quarantined += count
        }
        sources[output.sourceIndex].read += output.counters.first?.recordsIn ?? 0
        sources[output.sourceIndex].written += output.train.records + output.validation.records
        for stage in output.counters {
            for (reason, count) in stage.dropped {
                sources[output.sourceIndex].dropped["\(stage.name).\(reason)", default: 0] += count
                sources[output.sourceIndex].quarantined += count
            }
        }
        for i in seconds.indices where i < output.seconds.count { seconds[i] += output.seconds[i] }
    }

    /// Sets the counters of a stage computed over the whole run (dedup).
    func setCounters(_ stage: StageCounters) {
        if let index = counters.firstIndex(where: { $0.name == stage.name }) { counters[index] = stage }
    }

    /// Adds seconds spent outside the batches (the global stages' resolution) to a phase.
    func addSeconds(_ value: Double, phase index: Int) {
        if index < seconds.count { seconds[index] += value }
    }

    /// Renames shards into place and writes the manifest last.
    func finish(plan: RunPlan, blankLines: Int, stats: [String: Any]) throws -> Manifest {
        let trainEntries = try train.finish()
        let validationEntries = try validation.finish()
        var rejectEntries: [ShardEntry] = []
        for (_, series) in rejects { rejectEntries += try series.finish() }

        func summary(_ entries: [ShardEntry]) -> SplitSummary {
            var categories: [String: Int] = [:]
            for entry in entries { categories.merge(entry.categories, uniquingKeysWith: +) }
            return SplitSummary(records: entries.reduce(0) { $0 + $1.records }, shards: entries.count, categories: categories)
        }
        var byReason: [String: Int] = [:]
        for stage in counters {
            for (reason, count) in stage.dropped { byReason["\(stage.name).\(reason)"] = count }
        }
        let written = trainEntries.reduce(0) { $0 + $1.records } + validationEntries.reduce(0) { $0 + $1.records }
        let totals = Totals(read: counters.first?.recordsIn ?? 0, written: written,
                            quarantined: rejectEntries.reduce(0) { $0 + $1.records }, quarantinedByReason: byReason,
                            blankLines: blankLines, repeats: repeats)
        guard totals.balances else {
            throw RefineryError(.internal, "accounting does not balance: read \(totals.read) + repeats \(totals.repeats) != written \(totals.written) + quarantined \(totals.quarantined)")
        }
        let manifest = Manifest(
            dataset: plan.spec.output.dataset, version: plan.version, configHash: XXH3.hex(plan.spec.configHash),
            spec: plan.spec.text, inputs: plan.fingerprints, shards: trainEntries + validationEntries, rejects: rejectEntries,
            splits: ["train": summary(trainEntries), "validation": summary(validationEntries)], stages: counters, sources: sources,
            categoryMix: categoryMix, totals: totals)

        let statsData = try JSONSerialization.data(withJSONObject: stats, options: [.prettyPrinted, .sortedKeys])
        try writeAtomically(statsData + [0x0A], name: "stats.json")
        let card = DatasetCard.render(manifest, specPath: (plan.spec.file as NSString).lastPathComponent,
                                      scoreKeys: scoreKeys.sorted(), piiKeys: piiKeys.sorted())
        try writeAtomically(Data(card.utf8), name: "README.md")
        try writeAtomically(try manifest.encoded(), name: "manifest.json")
        return manifest
    }

    private func writeAtomically(_ data: Data, name: String) throws {
        try data.withUnsafeBytes { try fileSystem.writeAtomically($0, to: (directory as NSString).appendingPathComponent(name)) }
        written.append(name)
    }

    /// Removes every file this run wrote (temporary or renamed, shards, stats and card) after a failure.
    func abandon() {
        train.abandon()
        validation.abandon()
        for (_, series) in rejects { series.abandon() }
        for name in written { fileSystem.remove((directory as NSString).appendingPathComponent(name)) }
        written.removeAll()
    }
}
