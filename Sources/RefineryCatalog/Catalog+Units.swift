extension Catalog {
    /// A unit of work a run finished and wrote to a file (a row of `units`): a resumed run skips it.
    public struct UnitRecord: Sendable, Equatable {
        /// The dataset folder the unit belongs to.
        public var outputDirectory: String
        /// The spec hash the unit was made under; a unit made under another spec is not reused.
        public var specHash: String
        /// The unit's name, unique within the folder.
        public var key: String
        /// The file holding the unit's output.
        public var file: String
        /// XXH3-64 (hex) of that file.
        public var fileXXH3: String
        public var runID: Int64
        public var batches, records, bytes: Int

        public init(outputDirectory: String, specHash: String, key: String, file: String, fileXXH3: String, runID: Int64, batches: Int,
                    records: Int, bytes: Int) {
            self.outputDirectory = outputDirectory
            self.specHash = specHash
            self.key = key
            self.file = file
            self.fileXXH3 = fileXXH3
            self.runID = runID
            self.batches = batches
            self.records = records
            self.bytes = bytes
        }
    }

    /// Records a finished unit in one transaction, replacing a unit with the same folder and key.
    public func commitUnit(_ unit: UnitRecord) throws {
        try database.transaction {
            try database.run("""
                INSERT INTO units (output_dir, spec_hash, key, run_id, file, file_xxh3, batches, records, bytes, committed_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (output_dir, key) DO UPDATE SET
                    spec_hash = excluded.spec_hash, run_id = excluded.run_id, file = excluded.file, file_xxh3 = excluded.file_xxh3,
                    batches = excluded.batches, records = excluded.records, bytes = excluded.bytes, committed_at = excluded.committed_at
                """, [.text(unit.outputDirectory), .text(unit.specHash), .text(unit.key), .integer(unit.runID), .text(unit.file),
                      .text(unit.fileXXH3), .int(unit.batches), .int(unit.records), .int(unit.bytes), .text(CatalogTime.now())])
        }
    }

    /// The units committed for a folder, in commit order.
    public func committedUnits(outputDirectory: String) throws -> [UnitRecord] {
        try database.query("""
            SELECT output_dir, spec_hash, key, file, file_xxh3, run_id, batches, records, bytes FROM units WHERE output_dir = ? ORDER BY rowid
            """, [.text(outputDirectory)]) { row in
            UnitRecord(outputDirectory: row.text(0), specHash: row.text(1), key: row.text(2), file: row.text(3), fileXXH3: row.text(4),
                       runID: row.int64(5), batches: row.int(6), records: row.int(7), bytes: row.int(8))
        }
    }

    /// Forgets every unit committed for a folder (its run finished, or its work is being redone).
    public func discardUnits(outputDirectory: String) throws {
        try database.transaction {
            try database.run("DELETE FROM units WHERE output_dir = ?", [.text(outputDirectory)])
        }
    }
}
