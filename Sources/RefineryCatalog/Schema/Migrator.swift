import Foundation
import RefineryRecords
import RefineryShards

/// Reads which migrations a catalog has, refuses catalogs this Refinery cannot safely write, and applies the
/// missing steps.
enum Migrator {
    /// What a catalog file says about its schema.
    struct Recorded {
        /// The newest step applied: the larger of `PRAGMA user_version` and the `migrations` table's.
        var version: Int
        /// Version → name, from the `migrations` table.
        var names: [Int: String]
        /// Tables besides SQLite's own, for telling an empty file from another program's database.
        var tables: [String]
    }

    static func recorded(in database: Database) throws -> Recorded {
        let userVersion = try database.query("PRAGMA user_version") { $0.int(0) }.first ?? 0
        let tables = try database.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name") {
            $0.text(0)
        }
        var names: [Int: String] = [:]
        if tables.contains("migrations") {
            for (version, name) in try database.query("SELECT version, name FROM migrations", row: { ($0.int(0), $0.text(1)) }) {
                names[version] = name
            }
        }
        return Recorded(version: max(userVersion, names.keys.max() ?? 0), names: names, tables: tables)
    }

    /// Refuses a catalog written by a newer Refinery, by another build whose steps differ, or a database that
    /// is not a catalog at all.
    static func check(_ recorded: Recorded, path: String) throws {
        let known = Migration.all.count
        if recorded.version > known {
            throw RefineryError(.catalog,
                "catalog was written by a newer Refinery (schema \(recorded.version), this one knows \(known)); "
                + "upgrade Refinery or point `catalog:` elsewhere", at: SourceLocation(file: path))
        }
        if recorded.version == 0 && !recorded.tables.isEmpty {
            throw RefineryError(.catalog,
                "a SQLite database but not a Refinery catalog (tables: \(recorded.tables.joined(separator: ", "))); "
                + "it was left untouched. Point `catalog:` at another file", at: SourceLocation(file: path))
        }
        for migration in Migration.all {
            if let name = recorded.names[migration.version], name != migration.name {
                throw RefineryError(.catalog,
                    "the catalog records schema step \(migration.version) as '\(name)', but this Refinery's step \(migration.version) is "
                    + "'\(migration.name)': another build of Refinery wrote it. Use that build, or point `catalog:` elsewhere",
                    at: SourceLocation(file: path))
            }
        }
    }

    /// Applies every step after the recorded one up to `target`, each in its own transaction. A step another
    /// process applied meanwhile is skipped.
    static func migrate(_ database: Database, through target: Int) throws {
        let start = try recorded(in: database).version
        for migration in Migration.all.prefix(target) where migration.version > start {
            try database.transaction {
                let current = try recorded(in: database)
                try check(current, path: database.path)
                guard current.version < migration.version else { return }
                try database.execute("""
                    CREATE TABLE IF NOT EXISTS migrations (
                        version INTEGER PRIMARY KEY,
                        name TEXT NOT NULL,
                        applied_at TEXT NOT NULL,
                        refinery_version TEXT NOT NULL
                    )
                    """)
                try database.execute(migration.sql)
                try database.run("INSERT INTO migrations (version, name, applied_at, refinery_version) VALUES (?, ?, ?, ?)",
                                 [.int(migration.version), .text(migration.name), .text(CatalogTime.now()), .text(Manifest.refineryVersion)])
                try database.execute("PRAGMA user_version = \(migration.version)")
            }
        }
    }
}
