import RefineryRecords

extension Catalog {
    /// Records a dataset version a run wrote. A new version is a `candidate`; the same dataset and version
    /// again (rebuilt with `--force`) takes the new manifest path, hash and run (its files are there again, so a
    /// `gc` mark is cleared) and keeps its status, unless its manifest changed (a pinned `output.version` over
    /// other content): then it is a `candidate` again, to be promoted through the gates.
    /// - Parameter manifestHash: XXH3-64 (hex) of `manifest.json`'s bytes.
    public func recordVersion(dataset: String, version: String, manifestPath: String, manifestHash: String, runID: Int64) throws {
        try database.transaction {
            let now = CatalogTime.now()
            if let existing = try self.version(dataset: dataset, version: version), existing.manifestHash != manifestHash,
               existing.status != .candidate {
                try changeStatus(existing, to: .candidate, at: now, command: Self.currentCommand)
            }
            let updated = try database.run("""
                UPDATE dataset_versions SET manifest_path = ?, manifest_hash = ?, run_id = ?, files_removed_at = NULL
                WHERE dataset = ? AND version = ?
                """, [.text(manifestPath), .text(manifestHash), .integer(runID), .text(dataset), .text(version)])
            guard updated == 0 else { return }
            try database.run("""
                INSERT INTO dataset_versions (dataset, version, manifest_path, manifest_hash, status, run_id, created_at, status_changed_at)
                VALUES (?, ?, ?, ?, 'candidate', ?, ?, ?)
                """, [.text(dataset), .text(version), .text(manifestPath), .text(manifestHash), .integer(runID), .text(now), .text(now)])
            try recordChange(dataset: dataset, version: version, from: nil, to: .candidate, at: now, command: Self.currentCommand)
        }
    }

    /// Marks a version's files as gone: a run with `--force` replaced the fixed folder that held it.
    public func markFilesRemoved(dataset: String, version: String) throws {
        try database.transaction {
            try database.run("UPDATE dataset_versions SET files_removed_at = ? WHERE dataset = ? AND version = ? AND files_removed_at IS NULL",
                             [.text(CatalogTime.now()), .text(dataset), .text(version)])
        }
    }

    /// The version, or `nil` when the catalog has no such dataset version.
    public func version(dataset: String, version: String) throws -> VersionRecord? {
        try database.query("SELECT \(VersionRecord.columns) FROM dataset_versions WHERE dataset = ? AND version = ?",
                           [.text(dataset), .text(version)], row: VersionRecord.init(row:)).first
    }

    /// Versions, newest first: of one dataset, or of every dataset.
    public func versions(dataset: String? = nil) throws -> [VersionRecord] {
        try database.query("SELECT \(VersionRecord.columns) FROM dataset_versions WHERE ?1 IS NULL OR dataset = ?1 ORDER BY id DESC",
                           [.optional(dataset)], row: VersionRecord.init(row:))
    }

    /// The versions a run wrote.
    public func versions(producedBy runID: Int64) throws -> [VersionRecord] {
        try database.query("SELECT \(VersionRecord.columns) FROM dataset_versions WHERE run_id = ? ORDER BY id",
                           [.integer(runID)], row: VersionRecord.init(row:))
    }

    /// The dataset's production version, or `nil`.
    public func production(dataset: String) throws -> VersionRecord? {
        try database.query("SELECT \(VersionRecord.columns) FROM dataset_versions WHERE dataset = ? AND status = 'production'",
                           [.text(dataset)], row: VersionRecord.init(row:)).first
    }

    /// The names of the datasets with at least one recorded version, sorted.
    public func datasetNames() throws -> [String] {
        try database.query("SELECT DISTINCT dataset FROM dataset_versions ORDER BY dataset") { $0.text(0) }
    }

    /// Status changes, oldest first: of one version, or of every version of the dataset.
    public func history(dataset: String, version: String? = nil) throws -> [StatusChange] {
        try database.query("""
            SELECT \(StatusChange.columns) FROM status_history WHERE dataset = ?1 AND (?2 IS NULL OR version = ?2) ORDER BY id
            """, [.text(dataset), .optional(version)], row: StatusChange.init(row:))
    }

    /// The version, or an error (code `usage`) that lists what the catalog has instead.
    func requireVersion(dataset: String, version: String) throws -> VersionRecord {
        if let record = try self.version(dataset: dataset, version: version) { return record }
        let known = try versions(dataset: dataset)
        let message = known.isEmpty
            ? "catalog \(path) has no dataset '\(dataset)'"
                + ((try? datasetNames()).map { $0.isEmpty ? "; it records no versions yet" : "; it has: \($0.joined(separator: ", "))" } ?? "")
            : "catalog \(path) has no version '\(version)' of \(dataset); it has: "
                + known.prefix(10).map { "\($0.version) (\($0.status.rawValue))" }.joined(separator: ", ")
                + (known.count > 10 ? ", … (`refinery datasets \(dataset)` lists all)" : "")
        throw RefineryError(.usage, message)
    }

    /// Sets a version's status and records the change; call inside a transaction.
    func changeStatus(_ record: VersionRecord, to status: VersionRecord.Status, at now: String, command: String) throws {
        try database.run("UPDATE dataset_versions SET status = ?, status_changed_at = ? WHERE id = ?",
                         [.text(status.rawValue), .text(now), .integer(record.id)])
        try recordChange(dataset: record.dataset, version: record.version, from: record.status, to: status, at: now, command: command)
    }

    private func recordChange(dataset: String, version: String, from: VersionRecord.Status?, to: VersionRecord.Status, at now: String,
                              command: String) throws {
        try database.run("INSERT INTO status_history (dataset, version, from_status, to_status, at, command) VALUES (?, ?, ?, ?, ?, ?)",
                         [.text(dataset), .text(version), .optional(from?.rawValue), .text(to.rawValue), .text(now), .text(command)])
    }
}
