internal import SensorCore
internal import SensorStore
internal import Synchronization

/// The aggregation state of one shard: the worker applies queued batches to it and the
/// flusher takes what accumulated.
///
/// The worker is the only writer of a shard's series, so the lock is contended only while
/// the flusher swaps the pending buckets out, and while a daemon query picks its pending
/// series (``unflushed(_:)``: one glob test per pending series, and a copy of the picked
/// series' entries); it is taken once per wake-up of the worker (many batches), never per
/// reading.
final class ShardAggregator: Sendable {
    /// The resolutions and which of them are built from finer ones at flush.
    let plan: RollupPlan
    /// This shard's share of the pipeline's pending-bucket bounds.
    let limit: PendingLimit
    /// Whether readings with a seq are held for the store to judge instead of bucketed
    /// (the store de-duplicates at flush: several daemons share it).
    let holdsSequenced: Bool
    /// The shard's series' keys by number (the registry's).
    let names: SeriesNames

    /// What a flush takes from the shard: the bucket deltas, the journal position they
    /// cover, the parts of identified batches applied, and when the oldest batch among
    /// them was accepted (nil when none was applied). The seq windows come from ingress
    /// (``ShardIngress/takeChangedWindows(_:)``).
    struct Drained: Sendable {
        var pending: PendingBuckets
        var position: Int64
        var marks: [BatchMark]
        var oldestAccepted: ContinuousClock.Instant?
    }

    fileprivate struct State {
        var pending: PendingBuckets
        /// Journal position after the last applied batch.
        var position: Int64
        /// Acceptance time of the oldest batch applied since the last drain.
        var oldestAccepted: ContinuousClock.Instant?
        /// Parts of identified batches applied since the last drain.
        var marks: [BatchMark] = []
        /// The worker, waiting for the flusher to take its pending buckets.
        var drainWaiter: CheckedContinuation<Void, Never>?
    }

    private let state: Mutex<State>
    private let applied = Atomic<Int>(0)

    init(resolutions: [Resolution], names: SeriesNames, limit: PendingLimit = PendingLimit(buckets: .max, bytes: .max), holdsSequenced: Bool = false) {
        let plan = RollupPlan(resolutions: resolutions)
        self.plan = plan
        self.limit = limit
        self.holdsSequenced = holdsSequenced
        self.names = names
        self.state = Mutex(State(pending: PendingBuckets(plan: plan, names: names), position: 0))
    }

    /// Folds the batches into the pending buckets; returns whether they reached ``limit``.
    @discardableResult
    func apply(_ batches: [JournaledBatch]) -> Bool {
        let reached = state.withLock { state in
            for batch in batches {
                for reading in batch.readings {
                    if holdsSequenced, reading.seq != nil {
                        state.pending.hold(reading.reading(named: names))
                    } else {
                        state.pending.add(reading.value, at: reading.timestamp, series: reading.series)
                    }
                }
                if let mark = batch.mark { state.marks.append(mark) }
                state.position = max(state.position, batch.position)
                if let accepted = batch.acceptedAt {
                    state.oldestAccepted = min(state.oldestAccepted ?? accepted, accepted)
                }
            }
            return limit.isReached(by: state.pending)
        }
        applied.add(batches.reduce(0) { $0 + $1.readings.count }, ordering: .relaxed)
        return reached
    }

    /// Readings applied since the start: the flush timer watches it for quiet, without the
    /// lock a large batch may hold for a while.
    var appliedReadings: Int { applied.load(ordering: .relaxed) }

    /// Suspends until the flusher has taken the pending buckets, unless they are below
    /// ``limit``. This is the pipeline's memory bound: while it waits, the worker takes
    /// nothing from its queue, the queue fills and producers feel backpressure.
    func waitForDrain() async {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state in
                if !limit.isReached(by: state.pending) { return true }
                state.drainWaiter = continuation
                return false
            }
            if ready { continuation.resume() }
        }
    }

    /// The pending buckets of the series `isSelected` picks, and the journal position they
    /// reach, for a query (``PendingPart``); nothing is taken.
    func unflushed(_ isSelected: (SeriesKey) -> Bool) -> (pending: PendingBuckets, position: Int64) {
        state.withLock { state in (state.pending.selecting(isSelected), state.position) }
    }

    /// The pending reading counts and latest event times per series, and the journal
    /// position they reach; nothing is taken, and no window is shared with the worker.
    func unflushedTotals(shard: Int) -> PendingTotals {
        state.withLock { state in PendingTotals(shard: shard, position: state.position, pending: state.pending) }
    }

    /// Takes the pending buckets, leaving an empty set for the worker to go on with.
    func drain() -> Drained {
        let (taken, waiter) = state.withLock { state in
            let taken = Drained(pending: state.pending, position: state.position, marks: state.marks, oldestAccepted: state.oldestAccepted)
            state.pending = PendingBuckets(plan: plan, names: names)
            state.marks = []
            state.oldestAccepted = nil
            let waiter = state.drainWaiter
            state.drainWaiter = nil
            return (taken, waiter)
        }
        waiter?.resume()
        return taken
    }
}

/// How much a shard may hold pending between flushes before it asks for one and waits:
/// a number of buckets, and their bytes (a sketch of far-apart values holds far more than
/// a typical one).
struct PendingLimit: Sendable {
    var buckets: Int
    var bytes: Int

    func isReached(by pending: PendingBuckets) -> Bool {
        pending.bucketCount >= buckets || pending.bytes >= bytes
    }
}
