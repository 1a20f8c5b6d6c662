import CRefinerySQLite
import Foundation
import RefineryRecords

/// One connection to a SQLite file: statements, transactions, pragmas. Every failure is a ``RefineryError``
/// (code `catalog`) naming the file.
///
/// A connection is not `Sendable`: give each thread its own.
final class Database {
    /// How to open the file.
    enum Mode: Sendable {
        /// Read and write; create the file when it is missing.
        case create
        /// Read and write an existing file.
        case readWrite
        /// Read an existing file; no statement may write.
        case readOnly
    }

    /// The file's path.
    let path: String
    private let handle: OpaquePointer

    /// How long a statement waits for another connection's write lock before failing.
    static let busyTimeoutMilliseconds: Int32 = 10_000

    /// Opens a connection with foreign keys on and a busy timeout of ``busyTimeoutMilliseconds``.
    /// - Throws: ``RefineryError`` (code `catalog`) when SQLite cannot open the file.
    init(path: String, mode: Mode) throws {
        self.path = path
        let flags: Int32 = switch mode {
        case .create: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
        case .readWrite: SQLITE_OPEN_READWRITE
        case .readOnly: SQLITE_OPEN_READONLY
        }
        var handle: OpaquePointer?
        let code = sqlite3_open_v2(path, &handle, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard code == SQLITE_OK, let handle else {
            let reason = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
            sqlite3_close_v2(handle)
            throw RefineryError(.catalog, "cannot open the catalog: \(reason)", at: SourceLocation(file: path))
        }
        self.handle = handle
        sqlite3_extended_result_codes(handle, 1)
        sqlite3_busy_timeout(handle, Self.busyTimeoutMilliseconds)
        try execute("PRAGMA foreign_keys = ON")
    }

    deinit {
        sqlite3_close_v2(handle)
    }

    /// Runs one or more statements that return no rows.
    /// - Throws: ``RefineryError`` (code `catalog`) with SQLite's message.
    func execute(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &message)
        defer { sqlite3_free(message) }
        guard code == SQLITE_OK else {
            throw failure(code, message.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(code)))
        }
    }

    /// Compiles one statement.
    /// - Throws: ``RefineryError`` (code `catalog`) when the SQL does not compile against this file's schema.
    func prepare(_ sql: String) throws -> Statement {
        var statement: OpaquePointer?
        let code = sqlite3_prepare_v2(handle, sql, -1, &statement, nil)
        guard code == SQLITE_OK, let statement else { throw failure(code) }
        return Statement(database: self, handle: statement)
    }

    /// Runs one statement with `values` bound in order, and returns the rows it produced, each read by `row`.
    func query<Row>(_ sql: String, _ values: [SQLValue] = [], row: (Statement) throws -> Row) throws -> [Row] {
        let statement = try prepare(sql)
        try statement.bind(values)
        var rows: [Row] = []
        while try statement.step() { rows.append(try row(statement)) }
        return rows
    }

    /// Runs one statement that returns no rows, with `values` bound in order.
    /// - Returns: the number of rows it inserted, updated or deleted.
    @discardableResult
    func run(_ sql: String, _ values: [SQLValue] = []) throws -> Int {
        let statement = try prepare(sql)
        try statement.bind(values)
        while try statement.step() {}
        return Int(sqlite3_changes(handle))
    }

    /// Switches the file to write-ahead logging and returns the journal mode it is in afterwards. Two processes
    /// opening a new catalog at once both ask for the switch, and SQLite answers one of them "database is locked"
    /// at once, without its busy handler: that one asks again every few milliseconds, for up to the busy timeout.
    func switchToWAL() throws -> String? {
        var statement: OpaquePointer?
        let prepared = sqlite3_prepare_v2(handle, "PRAGMA journal_mode = WAL", -1, &statement, nil)
        guard prepared == SQLITE_OK, let statement else { throw failure(prepared) }
        defer { sqlite3_finalize(statement) }
        let deadline = Date().addingTimeInterval(Double(Self.busyTimeoutMilliseconds) / 1000)
        while true {
            let code = sqlite3_step(statement)
            if code == SQLITE_ROW { return sqlite3_column_text(statement, 0).map { String(cString: $0) } }
            if code == SQLITE_DONE { return nil }
            sqlite3_reset(statement)
            guard code & 0xFF == SQLITE_BUSY, Date() < deadline else { throw failure(code) }
            usleep(5_000)
        }
    }

    /// The rowid of the last row inserted through this connection.
    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Runs `body` in one `BEGIN IMMEDIATE` transaction: it takes the write lock first (waiting up to the busy
    /// timeout), commits when `body` returns and rolls back when it throws.
    @discardableResult
    func transaction<Result>(_ body: () throws -> Result) throws -> Result {
        try execute("BEGIN IMMEDIATE")
        let result: Result
        do {
            result = try body()
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
        do {
            try execute("COMMIT")
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
        return result
    }

    /// An error for a failed call, with SQLite's message and what to do for the common causes.
    func failure(_ code: Int32, _ message: String? = nil) -> RefineryError {
        let text = message ?? String(cString: sqlite3_errmsg(handle))
        let hint: String
        switch code & 0xFF {
        case SQLITE_BUSY, SQLITE_LOCKED:
            hint = "; another process held the catalog's write lock for more than \(Self.busyTimeoutMilliseconds / 1000) s, try again"
        case SQLITE_READONLY:
            hint = "; the catalog or its folder is not writable by this user"
        case SQLITE_FULL:
            hint = "; the disk is full"
        case SQLITE_CORRUPT, SQLITE_NOTADB:
            hint = "; the file is damaged or not a catalog: restore it from a backup or point `catalog:` elsewhere"
        default:
            hint = ""
        }
        // `catalog` only for a damaged file; otherwise the file is sound and using it failed (busy, disk full,
        // read-only): `output`, like any other write.
        let damaged = [SQLITE_CORRUPT, SQLITE_NOTADB].contains(code & 0xFF)
        return RefineryError(damaged ? .catalog : .output, "catalog statement failed: \(text)\(hint)", at: SourceLocation(file: path))
    }
}
