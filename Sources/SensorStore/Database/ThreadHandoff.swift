internal import Foundation

/// Hands batches of items from producer threads to one consumer thread, at most `capacity`
/// batches between them: a producer that runs ahead waits for room, the consumer waits for
/// the next batch. Each producer's batches arrive in the order it put them. Both sides are
/// threads that may block (never tasks of the cooperative pool).
///
/// Each producer ends with ``finish(failure:)``; the consumer can stop them early with
/// ``cancel()`` (their next ``put(_:)`` returns false) and then wait for them to end
/// (``waitUntilFinished()``).
final class ThreadHandoff<Item: Sendable>: @unchecked Sendable {
    // Every var below is read and written with `condition` locked.
    private let condition = NSCondition()
    /// At most `capacity`: taking the first shifts a few references.
    private var batches: [[Item]] = []
    /// Producers that have not finished.
    private var producing: Int
    private var cancelled = false
    private var failure: (any Error)?
    /// A producer waits for room (for tests).
    private var producerWaits = false
    private let capacity: Int

    init(capacity: Int, producers: Int = 1) {
        self.capacity = max(1, capacity)
        self.producing = max(1, producers)
    }

    // MARK: The producer's side

    /// Queues `batch`, waiting while `capacity` batches are queued; false once the consumer
    /// cancelled (the batch is dropped: stop producing).
    func put(_ batch: [Item]) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while batches.count >= capacity && !cancelled {
            producerWaits = true
            condition.wait()
        }
        producerWaits = false
        guard !cancelled else { return false }
        batches.append(batch)
        condition.broadcast()
        return true
    }

    /// Nothing more comes from this producer; `failure`, when given, is what ``take()``
    /// throws from then on (the first, when several fail).
    func finish(failure: (any Error)? = nil) {
        condition.lock()
        defer { condition.unlock() }
        producing -= 1
        if self.failure == nil { self.failure = failure }
        condition.broadcast()
    }

    // MARK: The consumer's side

    /// The next batch, waiting for it; nil once every producer finished and every batch was
    /// taken.
    /// - Throws: a producer's failure, as soon as it finished with one.
    func take() throws -> [Item]? {
        condition.lock()
        defer { condition.unlock() }
        while batches.isEmpty && producing > 0 && failure == nil { condition.wait() }
        if let failure { throw failure }
        guard !batches.isEmpty else { return nil }
        let batch = batches.removeFirst()
        condition.broadcast()
        return batch
    }

    /// Stops the producers: their next (or current) ``put(_:)`` returns false.
    func cancel() {
        condition.lock()
        defer { condition.unlock() }
        cancelled = true
        batches = []
        condition.broadcast()
    }

    /// Whether a producer waits for room (for tests).
    var producerIsWaiting: Bool {
        condition.lock()
        defer { condition.unlock() }
        return producerWaits
    }

    /// Waits until every producer called ``finish(failure:)``.
    func waitUntilFinished() {
        condition.lock()
        defer { condition.unlock() }
        while producing > 0 { condition.wait() }
    }
}
