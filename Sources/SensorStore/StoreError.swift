public import SensorCore

/// Why a ``SensorStore`` operation failed. Every message names the thing and the fix, so
/// the CLI and the HTTP API can show `description` as it is.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The database file could not be opened or is not one SensorHub can use
    /// (missing in read-only mode, not SQLite, a foreign schema, a newer schema, I/O).
    case cannotOpen(path: String, reason: String)
    /// The store holds no resolutions yet (``SensorStore/registerResolutions(_:)`` never ran).
    case noStoredResolutions
    /// The query window is not a multiple of any stored resolution.
    case windowNotMultiple(window: Resolution, stored: [Resolution])
    /// The query step is not a multiple of any stored resolution.
    case stepNotMultiple(step: Resolution, stored: [Resolution])
    /// Window and step are each a multiple of some stored resolution, but of no common one.
    case noCommonResolution(window: Resolution, step: Resolution, stored: [Resolution])
    /// `from` is not before `to`.
    case emptyRange(from: Int64, to: Int64)
    /// The answer could hold more rows than the limit (`limits.max_query_rows`); refused
    /// before it was computed.
    case tooManyRows(possible: Int64, limit: Int)
    /// A flush batch that breaks the store's rules (a pipeline bug); nothing of it was written.
    case invalidBatch(String)
    /// SQLite failed during `operation` (`write`, `query`, …); `reason` is SQLite's message.
    case database(operation: String, reason: String)
    /// The calling task was cancelled before the operation ran.
    case cancelled

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason):
            return "cannot open database \(path): \(reason)"
        case .noStoredResolutions:
            return "the database records no stored resolutions yet; start the daemon on it once (sensorhub serve) so it registers them"
        case let .windowNotMultiple(window, stored):
            return "window \(window) is not a multiple of a stored resolution (\(Self.list(stored))); use a multiple of one of them"
        case let .stepNotMultiple(step, stored):
            return "step \(step) is not a multiple of a stored resolution (\(Self.list(stored))); use a multiple of one of them"
        case let .noCommonResolution(window, step, stored):
            return "window \(window) and step \(step) are not both multiples of one stored resolution (\(Self.list(stored))); pick a step and window that one of them divides"
        case let .emptyRange(from, to):
            return "time range is empty: from (\(from) µs) must be before to (\(to) µs)"
        case let .tooManyRows(possible, limit):
            return "the answer could hold \(possible) rows, more than the limit of \(limit) (limits.max_query_rows); narrow the time range, the device or metric globs, or use a longer window or step"
        case let .invalidBatch(reason):
            return "invalid flush batch: \(reason)"
        case let .database(operation, reason):
            return "database \(operation) failed: \(reason)"
        case .cancelled:
            return "database operation cancelled"
        }
    }

    private static func list(_ resolutions: [Resolution]) -> String {
        resolutions.sorted().map(\.description).joined(separator: ", ")
    }
}
