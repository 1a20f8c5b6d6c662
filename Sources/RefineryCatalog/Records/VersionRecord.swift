import Foundation

/// One dataset version as the catalog holds it (a row of `dataset_versions`). JSON keys are the column names.
public struct VersionRecord: Codable, Sendable, Equatable {
    /// A version's standing: new versions are candidates; promotion makes one production and retires the one
    /// before.
    public enum Status: String, Codable, Sendable, CaseIterable {
        case candidate, production, retired
    }

    public var id: Int64
    public var dataset: String
    public var version: String
    /// The version's `manifest.json`.
    public var manifestPath: String
    /// XXH3-64 (hex) of `manifest.json`'s bytes when the run wrote it.
    public var manifestHash: String
    public var status: Status
    /// The run that wrote it (the latest, when rebuilt with `--force`).
    public var runID: Int64
    /// ISO-8601 UTC.
    public var createdAt: String
    public var statusChangedAt: String
    /// When `refinery gc` removed the version's files; `nil` while they are there.
    public var filesRemovedAt: String?

    enum CodingKeys: String, CodingKey {
        case id, dataset, version, manifestPath = "manifest_path", manifestHash = "manifest_hash", status, runID = "run_id",
             createdAt = "created_at", statusChangedAt = "status_changed_at", filesRemovedAt = "files_removed_at"
    }

    /// `dataset@version`.
    public var label: String { "\(dataset)@\(version)" }

    /// The version's folder.
    public var directory: String { (manifestPath as NSString).deletingLastPathComponent }

    static let columns = "id, dataset, version, manifest_path, manifest_hash, status, run_id, created_at, status_changed_at, files_removed_at"

    init(row: Statement) {
        id = row.int64(0)
        dataset = row.text(1)
        version = row.text(2)
        manifestPath = row.text(3)
        manifestHash = row.text(4)
        // The column's CHECK constraint admits only the three statuses.
        status = Status(rawValue: row.text(5)) ?? .retired
        runID = row.int64(6)
        createdAt = row.text(7)
        statusChangedAt = row.text(8)
        filesRemovedAt = row.optionalText(9)
    }
}

/// One change of a version's status (a row of `status_history`).
public struct StatusChange: Codable, Sendable, Equatable {
    public var dataset: String
    public var version: String
    /// `nil` when the version was first recorded.
    public var from: VersionRecord.Status?
    public var to: VersionRecord.Status
    /// ISO-8601 UTC.
    public var at: String
    /// The command line that made the change.
    public var command: String

    enum CodingKeys: String, CodingKey {
        case dataset, version, from = "from_status", to = "to_status", at, command
    }

    static let columns = "dataset, version, from_status, to_status, at, command"

    init(row: Statement) {
        dataset = row.text(0)
        version = row.text(1)
        from = row.optionalText(2).flatMap(VersionRecord.Status.init(rawValue:))
        to = VersionRecord.Status(rawValue: row.text(3)) ?? .retired
        at = row.text(4)
        command = row.text(5)
    }
}
