/// One step of the catalog's schema: applied once, in order, in its own transaction, and recorded in the
/// `migrations` table (and `PRAGMA user_version`) so a catalog says which steps it has.
///
/// Steps are only ever appended: a released step's SQL never changes.
struct Migration: Sendable {
    /// 1, 2, 3, … with no gaps.
    let version: Int
    /// A short snake_case name, recorded with the version.
    let name: String
    let sql: String

    /// Every step this Refinery knows, oldest first.
    static let all: [Migration] = [
        Migration(version: 1, name: "create_runs", sql: """
            CREATE TABLE runs (
                id INTEGER PRIMARY KEY,
                spec_name TEXT NOT NULL,
                spec_hash TEXT NOT NULL,
                spec_path TEXT NOT NULL,
                dataset TEXT NOT NULL,
                version TEXT NOT NULL,
                output_dir TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted')),
                started_at TEXT NOT NULL,
                ended_at TEXT,
                host TEXT NOT NULL,
                pid INTEGER NOT NULL,
                refinery_version TEXT NOT NULL,
                command TEXT NOT NULL,
                error TEXT,
                summary TEXT,
                records_read INTEGER,
                records_written INTEGER,
                records_quarantined INTEGER
            );
            CREATE INDEX runs_by_dataset ON runs (dataset, status);
            CREATE TABLE stage_stats (
                run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
                position INTEGER NOT NULL,
                stage TEXT NOT NULL,
                records_in INTEGER NOT NULL,
                records_out INTEGER NOT NULL,
                dropped TEXT NOT NULL,
                bytes_in INTEGER NOT NULL,
                bytes_out INTEGER NOT NULL,
                seconds REAL NOT NULL,
                PRIMARY KEY (run_id, position)
            );
            CREATE TABLE inputs (
                run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
                source TEXT NOT NULL,
                path TEXT NOT NULL,
                size INTEGER NOT NULL,
                mtime REAL NOT NULL,
                xxh3 TEXT NOT NULL
            );
            CREATE INDEX inputs_by_run ON inputs (run_id);
            """),
        Migration(version: 2, name: "create_units", sql: """
            CREATE TABLE units (
                output_dir TEXT NOT NULL,
                spec_hash TEXT NOT NULL,
                key TEXT NOT NULL,
                run_id INTEGER NOT NULL REFERENCES runs (id),
                file TEXT NOT NULL,
                file_xxh3 TEXT NOT NULL,
                batches INTEGER NOT NULL,
                records INTEGER NOT NULL,
                bytes INTEGER NOT NULL,
                committed_at TEXT NOT NULL,
                UNIQUE (output_dir, key)
            );
            """),
        Migration(version: 3, name: "create_dataset_versions", sql: """
            CREATE TABLE dataset_versions (
                id INTEGER PRIMARY KEY,
                dataset TEXT NOT NULL,
                version TEXT NOT NULL,
                manifest_path TEXT NOT NULL,
                manifest_hash TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('candidate', 'production', 'retired')),
                run_id INTEGER NOT NULL REFERENCES runs (id),
                created_at TEXT NOT NULL,
                status_changed_at TEXT NOT NULL,
                files_removed_at TEXT,
                UNIQUE (dataset, version)
            );
            CREATE UNIQUE INDEX one_production_per_dataset ON dataset_versions (dataset) WHERE status = 'production';
            CREATE TABLE status_history (
                id INTEGER PRIMARY KEY,
                dataset TEXT NOT NULL,
                version TEXT NOT NULL,
                from_status TEXT,
                to_status TEXT NOT NULL,
                at TEXT NOT NULL,
                command TEXT NOT NULL
            );
            CREATE INDEX status_history_by_dataset ON status_history (dataset, id);
            """),
        Migration(version: 4, name: "create_training_runs", sql: """
            CREATE TABLE training_runs (
                id INTEGER PRIMARY KEY,
                datasets TEXT NOT NULL,
                config_path TEXT NOT NULL,
                config_hash TEXT NOT NULL,
                output_dir TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted')),
                started_at TEXT NOT NULL,
                ended_at TEXT,
                checkpoints TEXT NOT NULL DEFAULT '[]',
                final_metrics TEXT,
                error TEXT
            );
            """),
        Migration(version: 5, name: "create_submissions", sql: """
            CREATE TABLE submissions (
                id INTEGER PRIMARY KEY,
                executor TEXT NOT NULL,
                dataset TEXT NOT NULL,
                version TEXT NOT NULL,
                spec_path TEXT NOT NULL,
                spec_hash TEXT NOT NULL,
                output_dir TEXT NOT NULL,
                work_root TEXT NOT NULL,
                task_count INTEGER NOT NULL,
                task_units TEXT NOT NULL,
                map_tasks TEXT NOT NULL,
                map_job TEXT,
                reduce_job TEXT NOT NULL,
                scripts_dir TEXT NOT NULL,
                submitted_at TEXT NOT NULL,
                command TEXT NOT NULL
            );
            CREATE INDEX submissions_by_dataset ON submissions (dataset, version);
            """),
        Migration(version: 6, name: "submission_phases", sql: """
            ALTER TABLE submissions ADD COLUMN dedup_job TEXT;
            ALTER TABLE submissions ADD COLUMN dedup_tasks INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE submissions ADD COLUMN resolve_job TEXT;
            ALTER TABLE submissions ADD COLUMN finalize_job TEXT;
            ALTER TABLE submissions ADD COLUMN finalize_tasks INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE submissions ADD COLUMN dedup_submitted TEXT NOT NULL DEFAULT '[]';
            ALTER TABLE submissions ADD COLUMN finalize_submitted TEXT NOT NULL DEFAULT '[]';
            """),
    ]
}
