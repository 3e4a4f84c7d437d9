internal import SensorCore
internal import SensorStore
internal import Synchronization

/// One live subscriber's bounded buffer of bucket updates, consumed as an async sequence
/// of ``LiveEvent``s.
///
/// The publisher never waits: when the buffer is full the oldest update is dropped and
/// counted, and the consumer's next event is `.lagged(dropped:)` with that count, before
/// the updates that were kept. ``close()`` (or the feed shutting down) ends the sequence.
public final class LiveSubscription: AsyncSequence, Sendable {
    public typealias Element = LiveEvent

    let id: Int
    let filter: LiveFilter
    /// A buffered update, or a keep-alive the consumer asked to be woken with.
    enum Item: Sendable {
        case bucket(StoredBucket)
        case heartbeat
    }

    private let updates: AsyncStream<Item>
    private let continuation: AsyncStream<Item>.Continuation
    private let dropped = Atomic<Int>(0)
    /// Free places in the buffer as of the last yield: a lower bound, since the consumer
    /// only ever makes more room.
    private let room: Atomic<Int>
    /// Whether each series seen so far matches the globs, so a glob is matched once per
    /// series, not once per update.
    private let matches = Mutex<[SeriesKey: Bool]>([:])
    private let metrics: LiveMetrics

    init(id: Int, filter: LiveFilter, capacity: Int, metrics: LiveMetrics, onClose: @escaping @Sendable (Int) -> Void) {
        self.id = id
        self.filter = filter
        self.metrics = metrics
        self.room = Atomic(capacity)
        (updates, continuation) = AsyncStream.makeStream(of: Item.self, bufferingPolicy: .bufferingNewest(capacity))
        continuation.onTermination = { _ in onClose(id) }
    }

    /// Whether the subscriber wants this bucket (its filter, cached per series).
    func wants(_ bucket: StoredBucket) -> Bool {
        if let resolutions = filter.resolutions, !resolutions.contains(bucket.resolution) { return false }
        return matches.withLock { matches in
            if let known = matches[bucket.series] { return known }
            // Bounded: a fleet whose device names keep changing starts the cache over.
            if matches.count >= 100_000 { matches.removeAll() }
            let matching = filter.matches(bucket.series)
            matches[bucket.series] = matching
            return matching
        }
    }

    /// Queues an update without waiting; a full buffer drops its oldest.
    func offer(_ bucket: StoredBucket) {
        offer(.bucket(bucket))
    }

    /// Queues a ``LiveEvent/heartbeat`` (for connections that must show they are alive),
    /// unless the buffer may be full: a heartbeat never pushes an update out.
    public func heartbeat() {
        if room.load(ordering: .relaxed) > 0 { offer(.heartbeat) }
    }

    private func offer(_ item: Item) {
        switch continuation.yield(item) {
        case .enqueued(let remaining):
            room.store(remaining, ordering: .relaxed)
        case .dropped(let lost):
            room.store(0, ordering: .relaxed)
            if case .bucket = lost {
                dropped.add(1, ordering: .relaxed)
                metrics.droppedUpdates.increment()
            }
        case .terminated:
            break
        @unknown default:
            break
        }
    }

    /// Ends the sequence (after what is buffered) and unsubscribes.
    public func close() {
        continuation.finish()
    }

    public func makeAsyncIterator() -> Iterator {
        Iterator(updates: updates.makeAsyncIterator(), subscription: self)
    }

    public struct Iterator: AsyncIteratorProtocol {
        var updates: AsyncStream<Item>.Iterator
        let subscription: LiveSubscription
        /// An item taken from the buffer while a lagged notice had to go first.
        var held: Item?

        public mutating func next() async -> LiveEvent? {
            let item: Item
            if let waiting = held {
                held = nil
                item = waiting
            } else {
                guard let taken = await updates.next() else { return nil }
                let lost = subscription.dropped.exchange(0, ordering: .relaxed)
                guard lost == 0 else {
                    held = taken
                    subscription.metrics.laggedEvents.increment()
                    return .lagged(dropped: lost)
                }
                item = taken
            }
            switch item {
            case .bucket(let bucket): return .bucket(bucket)
            case .heartbeat: return .heartbeat
            }
        }
    }
}
