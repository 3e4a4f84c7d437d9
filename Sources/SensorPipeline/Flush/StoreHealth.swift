internal import Synchronization

/// Whether the store can be written right now, as the flusher last found it: what
/// `/healthz` reports while flushes fail (the readings are then kept in the journal).
///
/// Thread-safety: one `Mutex`; the flusher writes, any request handler reads.
final class StoreHealth: Sendable {
    private struct Failure {
        var since: ContinuousClock.Instant
        var error: String
    }

    private let failure = Mutex<Failure?>(nil)

    /// Records a failed write; returns true for the first one of a stretch.
    func failed(_ error: String) -> Bool {
        failure.withLock { failure in
            defer { failure = Failure(since: failure?.since ?? .now, error: error) }
            return failure == nil
        }
    }

    /// Records a successful write; returns how long writes had been failing, if they were.
    func succeeded() -> Duration? {
        failure.withLock { failure in
            defer { failure = nil }
            return failure.map { .now - $0.since }
        }
    }

    /// Why the store cannot be written, or nil while it can.
    var problem: String? {
        failure.withLock { failure in
            failure.map { "cannot write to the database (\($0.error)); readings are kept in the journal and stored once it works again" }
        }
    }
}
