internal import SensorCore
internal import Synchronization

/// The aggregation state of one shard: the worker applies queued batches to it and the
/// flusher takes what accumulated.
///
/// The worker is the only writer of a shard's series, so the lock is uncontended except
/// for the instant the flusher swaps the pending buckets out; it is taken once per wake-up
/// of the worker (many batches), never per reading.
final class ShardAggregator: Sendable {
    let resolutions: [Resolution]

    private struct State {
        var pending = PendingBuckets()
        /// The worker, waiting for the flusher to take its pending buckets.
        var drainWaiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    init(resolutions: [Resolution]) {
        self.resolutions = resolutions
    }

    /// Folds the batches into the pending buckets; returns how many buckets are pending.
    @discardableResult
    func apply(_ batches: [[Reading]]) -> Int {
        state.withLock { state in
            for batch in batches {
                for reading in batch {
                    state.pending.add(reading, resolutions: resolutions)
                }
            }
            return state.pending.bucketCount
        }
    }

    /// Suspends until the flusher has taken the pending buckets, unless fewer than `limit`
    /// are pending. This is the pipeline's memory bound: while it waits, the worker takes
    /// nothing from its queue, the queue fills and producers feel backpressure.
    func waitForDrain(below limit: Int) async {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state in
                if state.pending.bucketCount < limit { return true }
                state.drainWaiter = continuation
                return false
            }
            if ready { continuation.resume() }
        }
    }

    /// Takes the pending buckets, leaving an empty set for the worker to go on with.
    func drain() -> PendingBuckets {
        let (taken, waiter) = state.withLock { state in
            let taken = state.pending
            state.pending = PendingBuckets()
            let waiter = state.drainWaiter
            state.drainWaiter = nil
            return (taken, waiter)
        }
        waiter?.resume()
        return taken
    }
}
