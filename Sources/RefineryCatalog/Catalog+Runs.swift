import Foundation
import RefineryRecords

extension Catalog {
    /// Where a run is in its life.
    public enum RunStatus: String, Codable, Sendable, CaseIterable {
        case running, succeeded, failed, interrupted
    }

    /// What the catalog records when a run starts.
    public struct RunStart: Sendable {
        public var specName, specHash, specPath, dataset, version, outputDirectory, host, refineryVersion, command: String
        public var pid: Int32

        public init(specName: String, specHash: String, specPath: String, dataset: String, version: String, outputDirectory: String,
                    host: String, refineryVersion: String, command: String, pid: Int32) {
            self.specName = specName
            self.specHash = specHash
            self.specPath = specPath
            self.dataset = dataset
            self.version = version
            self.outputDirectory = outputDirectory
            self.host = host
            self.refineryVersion = refineryVersion
            self.command = command
            self.pid = pid
        }
    }

    /// One stage's counters and time in a run (a row of `stage_stats`).
    public struct StageStat: Codable, Sendable, Equatable {
        public var stage: String
        public var recordsIn, recordsOut, bytesIn, bytesOut: Int
        /// Records dropped, by reason.
        public var dropped: [String: Int]
        public var seconds: Double

        public init(stage: String, recordsIn: Int, recordsOut: Int, bytesIn: Int, bytesOut: Int, dropped: [String: Int], seconds: Double) {
            self.stage = stage
            self.recordsIn = recordsIn
            self.recordsOut = recordsOut
            self.bytesIn = bytesIn
            self.bytesOut = bytesOut
            self.dropped = dropped
            self.seconds = seconds
        }

        enum CodingKeys: String, CodingKey {
            case stage, recordsIn = "records_in", recordsOut = "records_out", bytesIn = "bytes_in", bytesOut = "bytes_out", dropped, seconds
        }
    }

    /// Records a run that is starting: status `running`, `started_at` now.
    /// - Returns: the run's id.
    public func beginRun(_ start: RunStart) throws -> Int64 {
        try database.transaction {
            try database.run("""
                INSERT INTO runs (spec_name, spec_hash, spec_path, dataset, version, output_dir, status, started_at, host, pid,
                                  refinery_version, command)
                VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?, ?)
                """, [.text(start.specName), .text(start.specHash), .text(start.specPath), .text(start.dataset), .text(start.version),
                      .text(start.outputDirectory), .text(CatalogTime.now()), .text(start.host), .integer(Int64(start.pid)),
                      .text(start.refineryVersion), .text(start.command)])
            return database.lastInsertRowID
        }
    }

    /// Records how a run ended, with its totals and per-stage statistics, in one transaction.
    /// - Parameters:
    ///   - summary: the run's summary as JSON text.
    ///   - stages: in run order; replaces any statistics recorded for the run before.
    /// - Throws: ``RefineryError`` (code `usage`) when no run has this id.
    public func finishRun(_ id: Int64, status: RunStatus, error: String?, summary: String?, read: Int, written: Int, quarantined: Int,
                          stages: [StageStat]) throws {
        try database.transaction {
            let changed = try database.run("""
                UPDATE runs SET status = ?, ended_at = ?, error = ?, summary = ?, records_read = ?, records_written = ?,
                                records_quarantined = ?
                WHERE id = ?
                """, [.text(status.rawValue), .text(CatalogTime.now()), .optional(error), .optional(summary), .int(read), .int(written),
                      .int(quarantined), .integer(id)])
            guard changed == 1 else { throw RefineryError(.usage, "catalog \(path) has no run \(id) to finish") }
            try database.run("DELETE FROM stage_stats WHERE run_id = ?", [.integer(id)])
            let insert = try database.prepare("""
                INSERT INTO stage_stats (run_id, position, stage, records_in, records_out, dropped, bytes_in, bytes_out, seconds)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for (position, stage) in stages.enumerated() {
                try insert.bind([.integer(id), .int(position), .text(stage.stage), .int(stage.recordsIn), .int(stage.recordsOut),
                                 .text(try CatalogJSON.encode(stage.dropped)), .int(stage.bytesIn), .int(stage.bytesOut), .real(stage.seconds)])
                while try insert.step() {}
            }
        }
    }

    /// Marks every `running` run of `dataset` as `interrupted`. The caller holds the dataset's lock, so none of
    /// them is alive: they were killed or crashed.
    /// - Returns: the runs it marked, oldest first, as they are now.
    public func interruptStaleRuns(dataset: String) throws -> [RunRecord] {
        try database.transaction {
            let stale = try database.query("SELECT \(RunRecord.columns) FROM runs WHERE dataset = ? AND status = 'running' ORDER BY id",
                                           [.text(dataset)], row: RunRecord.init(row:))
            let now = CatalogTime.now()
            return try stale.map { run in
                var run = run
                run.status = .interrupted
                run.endedAt = now
                run.error = "interrupted: process \(run.pid) on \(run.host) ended before the run finished (killed or crashed); "
                    + "a later run found it"
                try database.run("UPDATE runs SET status = 'interrupted', ended_at = ?, error = ? WHERE id = ?",
                                 [.text(now), .optional(run.error), .integer(run.id)])
                return run
            }
        }
    }

    /// The newest `running` run of `dataset`, to name in an "already running" message.
    public func runningRun(dataset: String) throws -> RunRecord? {
        try newestRun(dataset: dataset, status: .running)
    }

    /// The newest run of `dataset` that succeeded.
    public func lastSucceeded(dataset: String) throws -> RunRecord? {
        try newestRun(dataset: dataset, status: .succeeded)
    }

    /// The run with this id, or `nil`.
    public func run(id: Int64) throws -> RunRecord? {
        try database.query("SELECT \(RunRecord.columns) FROM runs WHERE id = ?", [.integer(id)], row: RunRecord.init(row:)).first
    }

    /// Runs, newest first.
    /// - Parameters:
    ///   - dataset: only this dataset's runs, when given.
    ///   - limit: at most this many.
    public func runs(dataset: String? = nil, limit: Int? = nil) throws -> [RunRecord] {
        try database.query("""
            SELECT \(RunRecord.columns) FROM runs WHERE ?1 IS NULL OR dataset = ?1 ORDER BY id DESC LIMIT ?2
            """, [.optional(dataset), .integer(Int64(limit ?? -1))], row: RunRecord.init(row:))
    }

    /// A run's stage statistics, in run order.
    public func stageStats(runID: Int64) throws -> [StageStat] {
        try database.query("""
            SELECT stage, records_in, records_out, bytes_in, bytes_out, dropped, seconds FROM stage_stats WHERE run_id = ? ORDER BY position
            """, [.integer(runID)]) { row in
            StageStat(stage: row.text(0), recordsIn: row.int(1), recordsOut: row.int(2), bytesIn: row.int(3), bytesOut: row.int(4),
                      dropped: CatalogJSON.decode([String: Int].self, row.text(5), fallback: [:]), seconds: row.double(6))
        }
    }

    private func newestRun(dataset: String, status: RunStatus) throws -> RunRecord? {
        try database.query("SELECT \(RunRecord.columns) FROM runs WHERE dataset = ? AND status = ? ORDER BY id DESC LIMIT 1",
                           [.text(dataset), .text(status.rawValue)], row: RunRecord.init(row:)).first
    }
}
