public import SensorStore
internal import Synchronization

/// Fans the buckets of each flush out to live subscribers (SSE, WebSocket), each through
/// its own bounded buffer, so a slow or stalled subscriber never slows the flusher or
/// ingest: it only loses its oldest updates (and is told how many).
///
/// The flusher asks ``hasSubscribers`` before a write so that, with nobody listening, the
/// store does not even collect the written buckets.
public final class LiveFeed: Sendable {
    /// Updates buffered per subscriber before the oldest are dropped.
    public let capacity: Int
    private let subscriptions = Mutex<[Int: LiveSubscription]>([:])
    private let nextID = Atomic<Int>(0)
    private let count = Atomic<Int>(0)
    private let metrics = LiveMetrics()

    public init(capacity: Int = 4_096) {
        precondition(capacity > 0, "a live subscriber needs room for at least one update")
        self.capacity = capacity
    }

    public var hasSubscribers: Bool { count.load(ordering: .relaxed) > 0 }

    /// A new subscription; the caller must ``LiveSubscription/close()`` it when done (a
    /// consumer task that is cancelled closes it too).
    public func subscribe(_ filter: LiveFilter) -> LiveSubscription {
        let id = nextID.add(1, ordering: .relaxed).newValue
        let subscription = LiveSubscription(id: id, filter: filter, capacity: capacity, metrics: metrics) { [weak self] id in
            self?.remove(id)
        }
        let total = subscriptions.withLock {
            $0[id] = subscription
            return $0.count
        }
        count.store(total, ordering: .relaxed)
        metrics.subscribers.record(total)
        return subscription
    }

    /// Offers each bucket to every subscriber whose filter matches it. Never waits.
    public func publish(_ buckets: [StoredBucket]) {
        guard !buckets.isEmpty, hasSubscribers else { return }
        let current = subscriptions.withLock { Array($0.values) }
        for subscription in current {
            for bucket in buckets where subscription.filter.matches(bucket) {
                subscription.offer(bucket)
            }
        }
    }

    /// Ends every subscription (graceful shutdown: open streams close so HTTP can stop).
    public func closeAll() {
        for subscription in subscriptions.withLock({ Array($0.values) }) {
            subscription.close()
        }
    }

    private func remove(_ id: Int) {
        let total = subscriptions.withLock {
            $0[id] = nil
            return $0.count
        }
        count.store(total, ordering: .relaxed)
        metrics.subscribers.record(total)
    }
}
