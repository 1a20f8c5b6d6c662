import RefineryRecords

extension Catalog {
    /// Everything the catalog knows about a run.
    public struct RunDetails: Codable, Sendable {
        public var run: RunRecord
        /// In run order.
        public var stages: [StageStat]
        public var inputs: [InputRecord]
        /// The dataset versions it wrote.
        public var versions: [VersionRecord]
    }

    /// Everything the catalog knows about a dataset version: what produced it, from which inputs, and who
    /// trained on it.
    public struct VersionDetails: Codable, Sendable {
        public var version: VersionRecord
        /// Status changes, oldest first.
        public var history: [StatusChange]
        /// The run that wrote it.
        public var run: RunRecord?
        /// That run's inputs.
        public var inputs: [InputRecord]
        /// Training runs that used it, newest first.
        public var trainingRuns: [TrainingRunRecord]

        enum CodingKeys: String, CodingKey {
            case version, history, run, inputs, trainingRuns = "training_runs"
        }
    }

    /// A run with its stage statistics, inputs and the versions it wrote.
    /// - Throws: ``RefineryError`` (code `usage`) naming the newest runs when there is no run `id`.
    public func details(runID id: Int64) throws -> RunDetails {
        guard let run = try run(id: id) else {
            let newest = try runs(limit: 5).map { String($0.id) }
            throw RefineryError(.usage,
                "catalog \(path) has no run \(id); "
                    + (newest.isEmpty ? "it records no runs yet" : "the newest are \(newest.joined(separator: ", ")) (`refinery runs` lists them)"))
        }
        return RunDetails(run: run, stages: try stageStats(runID: id), inputs: try inputs(runID: id), versions: try versions(producedBy: id))
    }

    /// A version with its status history, the run that wrote it and its inputs, and the training runs that
    /// used it.
    /// - Throws: ``RefineryError`` (code `usage`) listing the dataset's versions when there is no such version.
    public func details(dataset: String, version: String) throws -> VersionDetails {
        let record = try requireVersion(dataset: dataset, version: version)
        return VersionDetails(version: record, history: try history(dataset: dataset, version: version), run: try run(id: record.runID),
                              inputs: try inputs(runID: record.runID), trainingRuns: try trainingRuns(using: record.label))
    }
}
