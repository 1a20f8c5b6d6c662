import Foundation
import RefineryRecords

/// The SQLite catalog: runs and their stage statistics and inputs, committed work units, dataset versions with
/// their status history, and training runs. It answers "what is in production, what produced it, and from
/// which inputs".
///
/// Opening a catalog never damages it: a file that is not SQLite, fails `PRAGMA quick_check`, or was written by
/// a newer Refinery is refused and left as it is. The file is in WAL mode, so readers never wait for a run;
/// every write is one `BEGIN IMMEDIATE` transaction, and writers wait up to ten seconds for each other.
///
/// A catalog is a connection: not `Sendable`, used from one thread. Open one per thread or process.
public final class Catalog {
    /// The catalog file.
    public let path: String
    let database: Database

    /// The schema version this Refinery writes: the number of known migrations.
    public static let schemaVersion: Int = Migration.all.count

    /// Opens the catalog at `path`, creating it (and its folders) when missing, and applies missing migrations.
    /// - Throws: ``RefineryError`` (code `catalog`) naming the file when it is not a catalog, is damaged, or
    ///   was written by a newer Refinery; the file is then not modified.
    public convenience init(path: String) throws {
        try self.init(path: path, mode: .create, migratingThrough: Self.schemaVersion)
    }

    /// Opens an existing catalog for reading and writing (the ops commands), applying missing migrations.
    /// - Throws: ``RefineryError`` with code `usage` when there is no file at `path` (nothing is created), or
    ///   code `catalog` as ``init(path:)`` does.
    public static func openExisting(path: String) throws -> Catalog {
        try Catalog(path: path, mode: .readWrite, migratingThrough: schemaVersion)
    }

    /// Opens an existing catalog read-only (the query commands): nothing is created, migrated or written.
    /// - Throws: ``RefineryError`` with code `usage` when there is no file at `path`, or code `catalog` as
    ///   ``init(path:)`` does, or when the catalog's schema is older than this Refinery's (any writing
    ///   command upgrades it).
    public static func openReadOnly(path: String) throws -> Catalog {
        try Catalog(path: path, mode: .readOnly, migratingThrough: schemaVersion)
    }

    /// Opens the catalog and brings its schema up to `target` (tests build old catalogs with a lower target).
    init(path: String, mode: Database.Mode, migratingThrough target: Int) throws {
        self.path = path
        let location = SourceLocation(file: path)
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        if exists {
            guard !isDirectory.boolValue else {
                throw RefineryError(.catalog, "this is a folder; `catalog:` names the catalog file, e.g. out/catalog.sqlite", at: location)
            }
            try Self.checkHeader(path)
        } else if mode == .create {
            do {
                try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            } catch {
                throw RefineryError(.output, "cannot create the catalog's folder: \((error as NSError).localizedDescription)", at: location)
            }
        } else {
            throw RefineryError(.usage, "no catalog at \(path); run `refinery run` first")
        }
        if exists && mode != .readOnly {
            // Refuse a damaged or newer catalog through a read-only connection first: a read-write one could
            // change the file when it closes (a checkpoint of a write-ahead log left by a newer Refinery).
            let probe = try Database(path: path, mode: .readOnly)
            try Self.quickCheck(probe)
            try Migrator.check(try Migrator.recorded(in: probe), path: path)
        }
        database = try Database(path: path, mode: mode)
        if exists { try Self.quickCheck(database) }
        let recorded = try Migrator.recorded(in: database)
        try Migrator.check(recorded, path: path)
        if mode == .readOnly {
            guard recorded.version == target else {
                throw RefineryError(.usage,
                    recorded.version == 0
                        ? "the catalog is empty; `refinery run` fills it"
                        : "the catalog has schema \(recorded.version) and this Refinery reads schema \(target); "
                            + "`refinery run`, `promote`, `rollback` or `gc` upgrade it (this command only reads)",
                    at: location)
            }
            return
        }
        let mode = try database.switchToWAL()
        guard mode == "wal" else {
            throw RefineryError(.catalog, "cannot switch the catalog to WAL mode (it stays '\(mode ?? "?")'); is its folder writable?", at: location)
        }
        if recorded.version < target { try Migrator.migrate(database, through: target) }
    }

    /// The command line of this process, recorded with status changes and runs.
    public static var currentCommand: String {
        CommandLine.arguments.enumerated().map { index, argument in
            index == 0 ? (argument as NSString).lastPathComponent : argument
        }.joined(separator: " ")
    }

    /// Refuses a file that does not start with SQLite's header, before SQLite touches it (an empty file is a
    /// new database).
    private static func checkHeader(_ path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw RefineryError(.catalog, "cannot read the catalog file (permissions?)", at: SourceLocation(file: path))
        }
        defer { try? handle.close() }
        let header = (try? handle.read(upToCount: 16)) ?? Data()
        guard header.isEmpty || header == Data("SQLite format 3\0".utf8) else {
            throw RefineryError(.catalog,
                "not a SQLite file, so not a Refinery catalog; it was left untouched. "
                + "Move it away or point `catalog:` at another file", at: SourceLocation(file: path))
        }
    }

    /// Runs `PRAGMA quick_check` and refuses a damaged file.
    private static func quickCheck(_ database: Database) throws {
        let problems: [String]
        do {
            problems = try database.query("PRAGMA quick_check") { $0.text(0) }.filter { $0 != "ok" }
        } catch let error as RefineryError {
            problems = [error.message]
        }
        guard problems.isEmpty else {
            throw RefineryError(.catalog,
                "the catalog is damaged (\(problems.prefix(3).joined(separator: "; "))); it was left untouched. "
                + "Restore it from a backup, or point `catalog:` elsewhere", at: SourceLocation(file: database.path))
        }
    }
}
