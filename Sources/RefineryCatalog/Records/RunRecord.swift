import Foundation

/// One pipeline run as the catalog holds it (a row of `runs`). JSON keys are the column names.
public struct RunRecord: Codable, Sendable, Equatable {
    public var id: Int64
    public var specName: String
    /// XXH3-64 (hex) of the spec's canonical YAML.
    public var specHash: String
    public var specPath: String
    public var dataset: String
    public var version: String
    public var outputDirectory: String
    public var status: Catalog.RunStatus
    /// ISO-8601 UTC.
    public var startedAt: String
    /// ISO-8601 UTC; `nil` while running.
    public var endedAt: String?
    public var host: String
    public var pid: Int32
    public var refineryVersion: String
    /// The command line that started the run.
    public var command: String
    /// Why the run failed or was interrupted.
    public var error: String?
    /// The run's summary (JSON text), as the engine wrote it.
    public var summary: String?
    /// Units read, records written and quarantined; `nil` until the run ends.
    public var recordsRead: Int?
    public var recordsWritten: Int?
    public var recordsQuarantined: Int?

    enum CodingKeys: String, CodingKey {
        case id, specName = "spec_name", specHash = "spec_hash", specPath = "spec_path", dataset, version, outputDirectory = "output_dir",
             status, startedAt = "started_at", endedAt = "ended_at", host, pid, refineryVersion = "refinery_version", command, error,
             summary, recordsRead = "records_read", recordsWritten = "records_written", recordsQuarantined = "records_quarantined"
    }

    /// `dataset@version`.
    public var label: String { "\(dataset)@\(version)" }

    /// Wall-clock seconds from start to end; `nil` while running.
    public var seconds: Double? { CatalogTime.seconds(from: startedAt, to: endedAt) }

    /// When the run ended, as a date (`nil` while it runs).
    public var endedAtDate: Date? { endedAt.flatMap(CatalogTime.date) }

    /// The `SELECT` list that ``init(row:)`` reads.
    static let columns = """
        id, spec_name, spec_hash, spec_path, dataset, version, output_dir, status, started_at, ended_at, host, pid,
        refinery_version, command, error, summary, records_read, records_written, records_quarantined
        """

    init(row: Statement) {
        id = row.int64(0)
        specName = row.text(1)
        specHash = row.text(2)
        specPath = row.text(3)
        dataset = row.text(4)
        version = row.text(5)
        outputDirectory = row.text(6)
        // The column's CHECK constraint admits only the four statuses.
        status = Catalog.RunStatus(rawValue: row.text(7)) ?? .failed
        startedAt = row.text(8)
        endedAt = row.optionalText(9)
        host = row.text(10)
        pid = Int32(truncatingIfNeeded: row.int64(11))
        refineryVersion = row.text(12)
        command = row.text(13)
        error = row.optionalText(14)
        summary = row.optionalText(15)
        recordsRead = row.optionalInt(16)
        recordsWritten = row.optionalInt(17)
        recordsQuarantined = row.optionalInt(18)
    }
}
