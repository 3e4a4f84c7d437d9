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
    private let metrics: LiveMetrics

    init(id: Int, filter: LiveFilter, capacity: Int, metrics: LiveMetrics, onClose: @escaping @Sendable (Int) -> Void) {
        self.id = id
        self.filter = filter
        self.metrics = metrics
        (updates, continuation) = AsyncStream.makeStream(of: Item.self, bufferingPolicy: .bufferingNewest(capacity))
        continuation.onTermination = { _ in onClose(id) }
    }

    /// Queues an update without waiting; a full buffer drops its oldest.
    func offer(_ bucket: StoredBucket) {
        offer(.bucket(bucket))
    }

    /// Queues a ``LiveEvent/heartbeat`` (for connections that must show they are alive).
    public func heartbeat() {
        offer(.heartbeat)
    }

    private func offer(_ item: Item) {
        if case .dropped(.bucket) = continuation.yield(item) {
            dropped.add(1, ordering: .relaxed)
            metrics.droppedUpdates.increment()
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
