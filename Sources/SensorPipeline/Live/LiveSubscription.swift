internal import DequeModule
internal import SensorCore
internal import SensorStore
internal import Synchronization

/// One live subscriber's bounded buffer of bucket updates, consumed as an async sequence
/// of ``LiveEvent``s.
///
/// The publisher never waits: a flush's updates are taken under one lock, and when the
/// buffer is full its oldest updates are dropped and counted; the consumer's next event is
/// then `.lagged(dropped:)` with that count, before the updates that were kept.
/// ``close()`` (or cancelling the consuming task) ends the sequence and unsubscribes.
public final class LiveSubscription: AsyncSequence, Sendable {
    public typealias Element = LiveEvent

    let id: Int
    let filter: LiveFilter
    let capacity: Int
    private let state = Mutex(State())
    private let metrics: LiveMetrics
    private let onClose: @Sendable (Int) -> Void

    private struct State {
        var buffer = Deque<LiveEvent>()
        /// Updates dropped since the consumer last heard of it.
        var dropped = 0
        /// Whether each series seen so far matches the globs, so a glob is matched once
        /// per series, not once per update.
        var matches: [SeriesKey: Bool] = [:]
        /// The consumer, waiting for the next event.
        var waiter: CheckedContinuation<Void, Never>?
        var closed = false

        mutating func takeWaiter() -> CheckedContinuation<Void, Never>? {
            defer { waiter = nil }
            return waiter
        }
    }

    init(id: Int, filter: LiveFilter, capacity: Int, metrics: LiveMetrics, onClose: @escaping @Sendable (Int) -> Void) {
        self.id = id
        self.filter = filter
        self.capacity = capacity
        self.metrics = metrics
        self.onClose = onClose
    }

    /// Queues the buckets this subscriber wants, without waiting; a full buffer drops its
    /// oldest updates.
    func offer(_ buckets: [Bucket]) {
        let (waiter, lost) = state.withLock { state -> (CheckedContinuation<Void, Never>?, Int) in
            guard !state.closed else { return (nil, 0) }
            var lost = 0
            for bucket in buckets where Self.wants(bucket.series, bucket.resolution, filter, &state.matches) {
                if state.buffer.count >= capacity {
                    state.buffer.removeFirst()
                    lost += 1
                }
                state.buffer.append(.bucket(bucket))
            }
            state.dropped += lost
            return (state.buffer.isEmpty ? nil : state.takeWaiter(), lost)
        }
        if lost > 0 { metrics.droppedUpdates.increment(by: lost) }
        waiter?.resume()
    }

    /// Queues the alerts of series this subscriber's globs match, like ``offer(_:)``.
    func offer(alerts: [AlertRecord]) {
        let (waiter, lost) = state.withLock { state -> (CheckedContinuation<Void, Never>?, Int) in
            guard !state.closed else { return (nil, 0) }
            var lost = 0
            for alert in alerts where filter.matches(SeriesKey(device: alert.device, metric: alert.metric)) {
                if state.buffer.count >= capacity {
                    state.buffer.removeFirst()
                    lost += 1
                }
                state.buffer.append(.alert(alert))
            }
            state.dropped += lost
            return (state.buffer.isEmpty ? nil : state.takeWaiter(), lost)
        }
        if lost > 0 { metrics.droppedUpdates.increment(by: lost) }
        waiter?.resume()
    }

    /// Queues a ``LiveEvent/heartbeat`` when nothing else is waiting to be sent (for
    /// connections that must show they are alive); it never takes an update's place.
    public func heartbeat() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.closed, state.buffer.isEmpty else { return nil }
            state.buffer.append(.heartbeat)
            return state.takeWaiter()
        }
        waiter?.resume()
    }

    /// Ends the sequence (after what is buffered) and unsubscribes. Idempotent.
    public func close() {
        let (waiter, first) = state.withLock { state -> (CheckedContinuation<Void, Never>?, Bool) in
            defer { state.closed = true }
            return (state.takeWaiter(), !state.closed)
        }
        waiter?.resume()
        if first { onClose(id) }
    }

    /// Whether the filter takes updates of this series and resolution.
    func wants(_ series: SeriesKey, _ resolution: Resolution) -> Bool {
        state.withLock { Self.wants(series, resolution, filter, &$0.matches) }
    }

    private static func wants(_ series: SeriesKey, _ resolution: Resolution, _ filter: LiveFilter, _ matches: inout [SeriesKey: Bool]) -> Bool {
        if let resolutions = filter.resolutions, !resolutions.contains(resolution) { return false }
        if let known = matches[series] { return known }
        // Bounded: a fleet whose device names keep changing starts the cache over.
        if matches.count >= 100_000 { matches.removeAll() }
        let matching = filter.matches(series)
        matches[series] = matching
        return matching
    }

    /// The next event: a lagged notice first if updates were dropped; nil once closed and
    /// drained, or when the consuming task is cancelled.
    func next() async -> LiveEvent? {
        while true {
            enum Step { case event(LiveEvent), end, wait }
            let step = state.withLock { state -> Step in
                if state.dropped > 0 {
                    defer { state.dropped = 0 }
                    return .event(.lagged(dropped: state.dropped))
                }
                if let event = state.buffer.popFirst() { return .event(event) }
                return state.closed || Task.isCancelled ? .end : .wait
            }
            switch step {
            case .event(let event):
                if case .lagged = event { metrics.laggedEvents.increment() }
                return event
            case .end:
                return nil
            case .wait:
                await withTaskCancellationHandler {
                    await withCheckedContinuation { continuation in
                        let ready = state.withLock { state -> Bool in
                            if !state.buffer.isEmpty || state.dropped > 0 || state.closed || Task.isCancelled { return true }
                            state.waiter = continuation
                            return false
                        }
                        if ready { continuation.resume() }
                    }
                } onCancel: {
                    state.withLock { $0.takeWaiter() }?.resume()
                }
            }
        }
    }

    public func makeAsyncIterator() -> Iterator {
        Iterator(subscription: self)
    }

    public struct Iterator: AsyncIteratorProtocol {
        let subscription: LiveSubscription

        public mutating func next() async -> LiveEvent? {
            await subscription.next()
        }
    }
}
