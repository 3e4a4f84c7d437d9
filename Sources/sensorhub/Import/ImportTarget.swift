import SensorCore

/// Where `sensorhub import` sends its batches: a running daemon (``ServerImportTarget``)
/// or the database file through an in-process pipeline (``DatabaseImportTarget``).
protocol ImportTarget: Sendable {
    /// Sends one batch under its identity and waits until it is taken (durable) or refused.
    /// Retries what passes (a full queue, a daemon restarting) by itself.
    /// - Throws: ``ImportTargetFailure`` when the target cannot take batches at all.
    func send(_ readings: [Reading], identity: BatchIdentity) async throws -> BatchAnswer
    /// Ends the session: `--db` stores everything and closes the database.
    func finish() async throws
}

/// What became of a batch.
enum BatchAnswer: Equatable {
    /// Taken: `accepted` counted now, `duplicates` already counted (by seq, or the batch
    /// was taken before under the same identity: `replayed` of them, counted by an earlier
    /// send, which an interrupted import did not get to record).
    case taken(accepted: Int, duplicates: Int, replayed: Int)
    /// Nothing taken because of the reading at `index` (time rules, series limits, a
    /// device the token may not write); the others may be sent again without it.
    case refused(index: Int, reason: RejectReason, message: String)
}

/// The target cannot go on (unreachable, unauthorised, database held by a daemon…).
struct ImportTargetFailure: Error, CustomStringConvertible {
    let description: String
}
