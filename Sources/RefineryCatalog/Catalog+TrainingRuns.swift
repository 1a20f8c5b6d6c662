import RefineryRecords

extension Catalog {
    /// What the catalog records when a training run starts.
    public struct TrainingRunStart: Sendable {
        /// The dataset versions it trains on, as `dataset@version`.
        public var datasets: [String]
        public var configPath: String
        public var configHash: String
        public var outputDirectory: String

        public init(datasets: [String], configPath: String, configHash: String, outputDirectory: String) {
            self.datasets = datasets
            self.configPath = configPath
            self.configHash = configHash
            self.outputDirectory = outputDirectory
        }
    }

    /// Records a training run that is starting: status `running`, `started_at` now.
    /// - Returns: its id.
    public func beginTrainingRun(_ start: TrainingRunStart) throws -> Int64 {
        try database.transaction {
            try database.run("""
                INSERT INTO training_runs (datasets, config_path, config_hash, output_dir, status, started_at)
                VALUES (?, ?, ?, ?, 'running', ?)
                """, [.text(try CatalogJSON.encode(start.datasets)), .text(start.configPath), .text(start.configHash),
                      .text(start.outputDirectory), .text(CatalogTime.now())])
            return database.lastInsertRowID
        }
    }

    /// Records how a training run ended.
    /// - Parameters:
    ///   - checkpoints: the checkpoint folders it left.
    ///   - finalMetrics: the last step's loss and NLL, steps, tokens, and what else it measured.
    /// - Throws: ``RefineryError`` (code `usage`) when no training run has this id.
    public func finishTrainingRun(_ id: Int64, status: RunStatus, error: String?, checkpoints: [String], finalMetrics: [String: Double]?) throws {
        try database.transaction {
            let changed = try database.run("""
                UPDATE training_runs SET status = ?, ended_at = ?, error = ?, checkpoints = ?, final_metrics = ? WHERE id = ?
                """, [.text(status.rawValue), .text(CatalogTime.now()), .optional(error), .text(try CatalogJSON.encode(checkpoints)),
                      .optional(try finalMetrics.map(CatalogJSON.encode)), .integer(id)])
            guard changed == 1 else {
                throw RefineryError(.usage, "catalog \(path) has no training run \(id) to finish")
            }
        }
    }

    /// Training runs, newest first: all, or those that trained on `dataset@version`.
    public func trainingRuns(using label: String? = nil) throws -> [TrainingRunRecord] {
        try database.query("""
            SELECT \(TrainingRunRecord.columns) FROM training_runs
            WHERE ?1 IS NULL OR EXISTS (SELECT 1 FROM json_each(training_runs.datasets) WHERE value = ?1)
            ORDER BY id DESC
            """, [.optional(label)], row: TrainingRunRecord.init(row:))
    }
}
