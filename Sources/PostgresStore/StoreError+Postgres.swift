internal import PostgresNIO
internal import SensorStore

extension StoreError {
    /// Maps an error of postgres-nio (or ours, passed through) to a ``StoreError`` whose
    /// reason is the server's message and SQLSTATE, or what failed on the connection.
    static func postgres(_ error: any Error, operation: String) -> StoreError {
        switch error {
        case let error as StoreError:
            return error
        case is CancellationError:
            return .cancelled
        case let error as PostgresTransactionError:
            // What failed inside the transaction (ours, or the server's) says the most.
            guard let cause = error.closureError ?? error.beginError ?? error.commitError ?? error.rollbackError else {
                return .database(operation: operation, reason: "the transaction failed")
            }
            return postgres(cause, operation: operation)
        case let error as PSQLError:
            return .database(operation: operation, reason: PostgresFailure(error).reason)
        default:
            return .database(operation: operation, reason: String(describing: error))
        }
    }
}

/// What a `PSQLError` says, without its connection details (postgres-nio hides them all
/// behind one generic description, to keep secrets out of logs).
struct PostgresFailure {
    let reason: String

    init(_ error: PSQLError) {
        if let message = error.serverInfo?[.message] {
            reason = "\(message) (SQLSTATE \(error.serverInfo?[.sqlState] ?? "?"))"
        } else if let underlying = error.underlying {
            reason = "\(error.code): \(underlying)"
        } else {
            reason = "\(error.code)"
        }
    }

    /// Whether running the transaction again may succeed: a deadlock or a serialization
    /// failure between daemons writing the same rows.
    static func isRetryable(_ error: any Error) -> Bool {
        if let error = error as? PostgresTransactionError {
            return (error.closureError ?? error.commitError).map(isRetryable) ?? false
        }
        guard let error = error as? PSQLError, let state = error.serverInfo?[.sqlState] else { return false }
        return state == "40P01" || state == "40001"
    }
}
