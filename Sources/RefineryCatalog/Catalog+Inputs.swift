extension Catalog {
    /// One input file as a run read it (a row of `inputs`).
    public struct InputRecord: Codable, Sendable, Equatable {
        public var source, path: String
        public var size: Int
        /// Modification time, seconds since 1970.
        public var mtime: Double
        /// XXH3-64 (hex) of the file's bytes.
        public var xxh3: String

        public init(source: String, path: String, size: Int, mtime: Double, xxh3: String) {
            self.source = source
            self.path = path
            self.size = size
            self.mtime = mtime
            self.xxh3 = xxh3
        }
    }

    /// Records the files a run reads, in one transaction.
    public func recordInputs(runID: Int64, _ inputs: [InputRecord]) throws {
        try database.transaction {
            let insert = try database.prepare("INSERT INTO inputs (run_id, source, path, size, mtime, xxh3) VALUES (?, ?, ?, ?, ?, ?)")
            for input in inputs {
                try insert.bind([.integer(runID), .text(input.source), .text(input.path), .int(input.size), .real(input.mtime), .text(input.xxh3)])
                while try insert.step() {}
            }
        }
    }

    /// The files a run read, in the order recorded.
    public func inputs(runID: Int64) throws -> [InputRecord] {
        try database.query("SELECT source, path, size, mtime, xxh3 FROM inputs WHERE run_id = ? ORDER BY rowid", [.integer(runID)]) { row in
            InputRecord(source: row.text(0), path: row.text(1), size: row.int(2), mtime: row.double(3), xxh3: row.text(4))
        }
    }

    /// The inputs already published in a version of `dataset`: those read by a run that produced a version
    /// still recorded in `dataset_versions` (any status; a version whose files `gc` removed still counts, so that
    /// an incremental run does not bring its records back).
    /// - Returns: ``publishedKey(source:xxh3:)`` → the version that first published it. The same bytes in
    ///   another source are another input (its category or language may differ).
    public func publishedInputs(dataset: String) throws -> [String: String] {
        let rows = try database.query("""
            SELECT i.source, i.xxh3, v.version FROM inputs i JOIN dataset_versions v ON v.run_id = i.run_id
            WHERE v.dataset = ? ORDER BY v.id DESC
            """, [.text(dataset)]) { (Self.publishedKey(source: $0.text(0), xxh3: $0.text(1)), $0.text(2)) }
        // Newest first, so the oldest version's entry is the one left.
        return Dictionary(rows, uniquingKeysWith: { _, older in older })
    }

    /// How ``publishedInputs(dataset:)`` names an input: its source and content hash.
    public static func publishedKey(source: String, xxh3: String) -> String { "\(source)\u{0}\(xxh3)" }
}
