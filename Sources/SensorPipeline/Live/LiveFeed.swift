public import SensorCore
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
    /// Most subscribers at once: each may pin `capacity` buckets a slow client has not read.
    public let maxSubscribers: Int
    private let subscriptions = Mutex<[Int: LiveSubscription]>([:])
    private let nextID = Atomic<Int>(0)
    /// Mirrors `subscriptions.count`, written under its lock, read without it.
    private let count = Atomic<Int>(0)
    private let metrics = LiveMetrics()

    public init(capacity: Int = 4_096, maxSubscribers: Int = 64) {
        precondition(capacity > 0, "a live subscriber needs room for at least one update")
        self.capacity = capacity
        self.maxSubscribers = max(1, maxSubscribers)
    }

    public var hasSubscribers: Bool { count.load(ordering: .relaxed) > 0 }

    /// A new subscription, or nil when ``maxSubscribers`` are connected. The caller must
    /// ``LiveSubscription/close()`` it when done: that unsubscribes it.
    public func subscribe(_ filter: LiveFilter) -> LiveSubscription? {
        let id = nextID.add(1, ordering: .relaxed).newValue
        let subscription = LiveSubscription(id: id, filter: filter, capacity: capacity, metrics: metrics) { [weak self] id in
            self?.remove(id)
        }
        let added = subscriptions.withLock { subscriptions in
            guard subscriptions.count < maxSubscribers else { return false }
            subscriptions[id] = subscription
            recordCount(subscriptions.count)
            return true
        }
        return added ? subscription : nil
    }

    /// Which buckets some subscriber wants, for the store to collect only those (a
    /// dashboard following one series costs the flush next to nothing); nil when nobody
    /// is subscribed.
    public func bucketFilter() -> (@Sendable (SeriesKey, Resolution) -> Bool)? {
        let current = subscriptions.withLock { Array($0.values) }
        guard !current.isEmpty else { return nil }
        return { series, resolution in current.contains { $0.wants(series, resolution) } }
    }

    /// Offers the buckets to every subscriber (each takes those its filter matches, under
    /// one lock per subscriber). Never waits.
    public func publish(_ buckets: [Bucket]) {
        guard !buckets.isEmpty, hasSubscribers else { return }
        for subscription in subscriptions.withLock({ Array($0.values) }) {
            subscription.offer(buckets)
        }
    }

    /// Offers alert transitions to every subscriber whose device and metric globs match
    /// them (whatever resolutions it follows). Never waits.
    public func publish(alerts: [AlertRecord]) {
        guard !alerts.isEmpty, hasSubscribers else { return }
        for subscription in subscriptions.withLock({ Array($0.values) }) {
            subscription.offer(alerts: alerts)
        }
    }

    private func remove(_ id: Int) {
        subscriptions.withLock { subscriptions in
            subscriptions[id] = nil
            recordCount(subscriptions.count)
        }
    }

    /// Called under the lock, so concurrent changes cannot store their counts out of order.
    private func recordCount(_ total: Int) {
        count.store(total, ordering: .relaxed)
        metrics.subscribers.record(total)
    }
}
