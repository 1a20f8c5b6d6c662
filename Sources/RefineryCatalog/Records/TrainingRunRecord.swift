/// One `refinery train` run as the catalog holds it (a row of `training_runs`). JSON keys are the column names.
public struct TrainingRunRecord: Codable, Sendable, Equatable {
    public var id: Int64
    /// The dataset versions it trained on, as `dataset@version`.
    public var datasets: [String]
    public var configPath: String
    /// The training configuration's hash (the one its checkpoints record).
    public var configHash: String
    public var outputDirectory: String
    public var status: Catalog.RunStatus
    /// ISO-8601 UTC.
    public var startedAt: String
    public var endedAt: String?
    /// The checkpoint folders kept when it ended.
    public var checkpoints: [String]
    /// Final loss, NLL, steps, tokens and the like; `nil` unless it succeeded.
    public var finalMetrics: [String: Double]?
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case id, datasets, configPath = "config_path", configHash = "config_hash", outputDirectory = "output_dir", status,
             startedAt = "started_at", endedAt = "ended_at", checkpoints, finalMetrics = "final_metrics", error
    }

    static let columns = "id, datasets, config_path, config_hash, output_dir, status, started_at, ended_at, checkpoints, final_metrics, error"

    init(row: Statement) {
        id = row.int64(0)
        datasets = CatalogJSON.decode([String].self, row.text(1), fallback: [])
        configPath = row.text(2)
        configHash = row.text(3)
        outputDirectory = row.text(4)
        status = Catalog.RunStatus(rawValue: row.text(5)) ?? .failed
        startedAt = row.text(6)
        endedAt = row.optionalText(7)
        checkpoints = CatalogJSON.decode([String].self, row.text(8), fallback: [])
        finalMetrics = row.optionalText(9).map { CatalogJSON.decode([String: Double].self, $0, fallback: [:]) }
        error = row.optionalText(10)
    }
}
