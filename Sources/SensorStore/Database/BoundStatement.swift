internal import GRDB
internal import GRDBSQLite
internal import SensorCore

/// Binds plain integers and doubles to a GRDB-prepared statement through the SQLite C API
/// and steps it.
///
/// The flush writes hundreds of thousands of rows per second; GRDB's `StatementArguments`
/// box every value as an existential `DatabaseValueConvertible` (an array and 13 boxed
/// values per row), and a profile of the HTTP benchmark showed that boxing costing more
/// than SQLite itself. Statements stay prepared and cached by GRDB; only binding and
/// stepping bypass it, so a statement used here must not also be run through GRDB.
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

    /// Binds the ten stats columns at 1...10, in the order of the bucket statements.
    @inline(__always)
    func bind(_ stats: BucketStats) {
        bind(1, stats.count)
        bind(2, stats.sum)
        bind(3, stats.min)
        bind(4, stats.max)
        bind(5, stats.mean)
        bind(6, stats.m2)
        bind(7, stats.firstTimestamp)
        bind(8, stats.first)
        bind(9, stats.lastTimestamp)
        bind(10, stats.last)
    }

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
