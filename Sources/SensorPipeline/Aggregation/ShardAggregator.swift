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
    private let pending = Mutex(PendingBuckets())

    init(resolutions: [Resolution]) {
        self.resolutions = resolutions
    }

    /// Folds the batches into the pending buckets; returns how many buckets are pending.
    @discardableResult
    func apply(_ batches: [[Reading]]) -> Int {
        pending.withLock { pending in
            for batch in batches {
                for reading in batch {
                    pending.add(reading, resolutions: resolutions)
                }
            }
            return pending.bucketCount
        }
    }

    /// Takes the pending buckets, leaving an empty set for the worker to go on with.
    func drain() -> PendingBuckets {
        pending.withLock { pending in
            let taken = pending
            pending = PendingBuckets()
            return taken
        }
    }
}
