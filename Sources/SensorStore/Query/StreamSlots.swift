internal import Synchronization

/// How many query answers may be streamed at once (the HTTP route's limit).
///
/// A streamed answer holds one of the store's readers (SQLite keeps four; PostgreSQL, a
/// pooled connection) for as long as its client reads. Past `limit`, a large answer is
/// refused with 503, so small queries, `/v1/devices` and the rule engine always find a
/// reader free.
package final class StreamSlots: Sendable {
    package let limit: Int
    private let taken = Atomic<Int>(0)

    package init(limit: Int) {
        self.limit = limit
    }

    /// Takes a slot if one is free.
    fileprivate func take() -> Bool {
        var current = taken.load(ordering: .relaxed)
        while current < limit {
            let (exchanged, original) = taken.compareExchange(expected: current, desired: current + 1, ordering: .acquiringAndReleasing)
            if exchanged { return true }
            current = original
        }
        return false
    }

    fileprivate func release() {
        taken.subtract(1, ordering: .acquiringAndReleasing)
    }
}

/// One streamed answer's slot and channel. Released when the response lets go of it,
/// whether or not its body ever ran (a client gone before the head was written): the
/// channel is closed then, so the store's read ends, and the slot is free again.
package final class StreamLease: Sendable {
    package let pages: AggregatePageChannel
    private let slots: StreamSlots

    /// Nil when every slot is taken.
    package init?(pages: AggregatePageChannel, slots: StreamSlots) {
        guard slots.take() else { return nil }
        self.pages = pages
        self.slots = slots
    }

    deinit {
        pages.close()
        slots.release()
    }
}

extension StreamSlots {
    /// Slots taken now (for tests).
    package var inUse: Int { taken.load(ordering: .relaxed) }
}
