internal import GRDB
import SensorCore

extension StoreError {
    /// Maps any error thrown around GRDB to a ``StoreError`` (passing ours through).
    static func wrapping(_ error: any Error, operation: String) -> StoreError {
        switch error {
        case let error as StoreError:
            return error
        case is CancellationError:
            return .cancelled
        case let error as DatabaseError:
            return .database(operation: operation, reason: error.message ?? "SQLite error \(error.extendedResultCode.rawValue)")
        default:
            return .database(operation: operation, reason: String(describing: error))
        }
    }

    /// Maps an error met while opening `path` to ``cannotOpen(path:reason:)`` with a fix.
    static func opening(_ path: String, _ error: any Error, readOnly: Bool) -> StoreError {
        switch error {
        case let error as StoreError:
            return error
        case let refusal as SchemaGuard.Refusal:
            return .cannotOpen(path: path, reason: refusal.reason)
        case let error as DatabaseError:
            let message = error.message ?? "SQLite error \(error.extendedResultCode.rawValue)"
            switch error.resultCode {
            case .SQLITE_NOTADB:
                return .cannotOpen(path: path, reason: "not a SQLite database (\(message)); point --db at the file `sensorhub serve` writes")
            case .SQLITE_CORRUPT:
                return .cannotOpen(path: path, reason: "the database file is corrupt (\(message)); restore it from a backup")
            case .SQLITE_CANTOPEN:
                let fix = readOnly
                    ? "check that the file and its directory are readable"
                    : "check that the directory exists and is writable"
                return .cannotOpen(path: path, reason: "\(message); \(fix)")
            case .SQLITE_PERM, .SQLITE_AUTH, .SQLITE_READONLY:
                return .cannotOpen(path: path, reason: "permission denied (\(message)); check the file's owner and mode")
            case .SQLITE_BUSY, .SQLITE_LOCKED:
                return .cannotOpen(path: path, reason: "the database stayed locked by another process (\(message)); retry, or stop the other writer")
            default:
                return .cannotOpen(path: path, reason: message)
            }
        default:
            return .cannotOpen(path: path, reason: String(describing: error))
        }
    }
}
