internal import GRDB
internal import Foundation
internal import GRDBSQLite
internal import SensorCore

/// Binds plain values to a GRDB-prepared statement, steps it and reads its columns through
/// the SQLite C API.
///
/// The flush writes thousands of rows per second and queries read as many; GRDB's
/// `StatementArguments` box every value as an existential `DatabaseValueConvertible`, and
/// a profile of the HTTP benchmark showed that boxing costing more than SQLite itself;
/// reading 40,000 aggregate rows through GRDB's `Row` took 0.45 s. Statements stay
/// prepared and cached by GRDB; only binding, stepping and reading columns bypass it, so a
/// statement used here must not also be run through GRDB.
struct BoundStatement {
    private let statement: Statement
    private let db: Database

    init(_ statement: Statement, in db: Database) {
        self.statement = statement
        self.db = db
    }

    @inline(__always)
    func bind(_ index: Int32, _ value: Int64) {
        sqlite3_bind_int64(statement.sqliteStatement, index, value)
    }

    @inline(__always)
    func bind(_ index: Int32, _ value: Double) {
        sqlite3_bind_double(statement.sqliteStatement, index, value)
    }

    /// Binds a blob parameter (copied by SQLite).
    func bind(_ index: Int32, _ bytes: some ContiguousBytes) {
        bytes.withUnsafeBytes { raw in
            _ = sqlite3_bind_blob(statement.sqliteStatement, index, raw.baseAddress, Int32(raw.count), Self.transient)
        }
    }

    /// Calls `body` with the bytes of a blob column of the current row (empty for NULL),
    /// valid only during the call.
    func withBlob<T, E: Error>(_ column: Int32, _ body: (UnsafeRawBufferPointer) throws(E) -> T) throws(E) -> T {
        let handle = statement.sqliteStatement
        let count = Int(sqlite3_column_bytes(handle, column))
        guard count > 0, let bytes = sqlite3_column_blob(handle, column) else { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        return try body(UnsafeRawBufferPointer(start: bytes, count: count))
    }

    /// Binds a text parameter (copied by SQLite).
    func bind(_ index: Int32, _ value: String) {
        sqlite3_bind_text(statement.sqliteStatement, index, value, -1, Self.transient)
    }

    /// Steps a query: true while it yields a row; throws on an error. Call ``reset()`` once done.
    @inline(__always)
    func step() throws -> Bool {
        let code = sqlite3_step(statement.sqliteStatement)
        if code == SQLITE_ROW { return true }
        if code == SQLITE_DONE { return false }
        let message = db.sqliteConnection.map { String(cString: sqlite3_errmsg($0)) }
        sqlite3_reset(statement.sqliteStatement)
        throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql)
    }

    func reset() {
        sqlite3_reset(statement.sqliteStatement)
    }

    @inline(__always)
    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(statement.sqliteStatement, column) }

    @inline(__always)
    func double(_ column: Int32) -> Double { sqlite3_column_double(statement.sqliteStatement, column) }

    func text(_ column: Int32) -> String {
        guard let bytes = sqlite3_column_text(statement.sqliteStatement, column) else { return "" }
        return String(cString: bytes)
    }

    /// SQLite's SQLITE_TRANSIENT: copy bound text before returning.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// Steps the statement to completion and resets it for the next row.
    func run() throws {
        let handle = statement.sqliteStatement
        let code = sqlite3_step(handle)
        guard code == SQLITE_DONE else {
            let message = db.sqliteConnection.map { String(cString: sqlite3_errmsg($0)) }
            sqlite3_reset(handle)
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql)
        }
        sqlite3_reset(handle)
    }
}
