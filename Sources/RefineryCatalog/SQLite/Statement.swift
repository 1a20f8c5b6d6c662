import CRefinerySQLite

/// A compiled statement: bind values, step through rows, read typed columns. Columns are numbered from 0 in
/// the order of the `SELECT` list.
final class Statement {
    private let database: Database
    private let handle: OpaquePointer

    init(database: Database, handle: OpaquePointer) {
        self.database = database
        self.handle = handle
    }

    deinit {
        sqlite3_finalize(handle)
    }

    /// Binds `values` to the statement's parameters, in order, replacing earlier bindings.
    /// - Throws: ``RefineryError`` (code `catalog`) when the count does not match the statement's parameters.
    func bind(_ values: [SQLValue]) throws {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        let expected = Int(sqlite3_bind_parameter_count(handle))
        guard values.count == expected else {
            throw database.failure(SQLITE_RANGE, "\(values.count) values for \(expected) parameters in \(String(cString: sqlite3_sql(handle)))")
        }
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32 = switch value {
            case .integer(let number): sqlite3_bind_int64(handle, index, number)
            case .real(let number): sqlite3_bind_double(handle, index, number)
            // SQLITE_TRANSIENT: SQLite copies the text before the Swift string goes away.
            case .text(let text): sqlite3_bind_text(handle, index, text, -1, unsafeBitCast(-1, to: sqlite3_destructor_type.self))
            case .null: sqlite3_bind_null(handle, index)
            }
            guard code == SQLITE_OK else { throw database.failure(code) }
        }
    }

    /// Advances to the next row.
    /// - Returns: `true` when a row is ready to read, `false` when the statement is done.
    /// - Throws: ``RefineryError`` (code `catalog`) with SQLite's message (a constraint, a busy lock, a full disk).
    func step() throws -> Bool {
        let code = sqlite3_step(handle)
        switch code {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let error = database.failure(code)
            sqlite3_reset(handle)
            throw error
        }
    }

    /// Whether column `index` of the current row is `NULL`.
    func isNull(_ index: Int32) -> Bool { sqlite3_column_type(handle, index) == SQLITE_NULL }

    /// Column `index` as an integer (0 for `NULL`).
    func int64(_ index: Int32) -> Int64 { sqlite3_column_int64(handle, index) }

    /// Column `index` as an integer (0 for `NULL`).
    func int(_ index: Int32) -> Int { Int(sqlite3_column_int64(handle, index)) }

    /// Column `index` as an integer, `nil` for `NULL`.
    func optionalInt(_ index: Int32) -> Int? { isNull(index) ? nil : int(index) }

    /// Column `index` as a number (0 for `NULL`).
    func double(_ index: Int32) -> Double { sqlite3_column_double(handle, index) }

    /// Column `index` as text (empty for `NULL`).
    func text(_ index: Int32) -> String {
        guard let pointer = sqlite3_column_text(handle, index) else { return "" }
        return String(cString: pointer)
    }

    /// Column `index` as text, `nil` for `NULL`.
    func optionalText(_ index: Int32) -> String? { isNull(index) ? nil : text(index) }
}
