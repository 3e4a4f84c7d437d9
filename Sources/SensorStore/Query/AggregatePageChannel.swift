internal import Dispatch
internal import SensorCore
internal import Synchronization

/// Carries a streamed query's pages from the store that reads them (the producer) to the
/// response that writes them (the consumer), holding at most `capacity` pages between the
/// two: the daemon's memory for one answer stays a few pages whatever its size, and the
/// store's reader waits while the client reads slowly. One producer, one consumer.
///
/// A reader must not wait for long: its read transaction holds one of the store's few
/// readers and pins a snapshot (SQLite cannot checkpoint its WAL past it; PostgreSQL holds
/// a pooled connection). So the producer's next `accept` or `acceptBlocking` throws, and
/// its read ends, once the response is gone (``close()``: the client disconnected, the
/// answer was written, or the response was dropped), when no page was taken for
/// `stallLimit`, or when the stream has run for `streamLimit`.
package final class AggregatePageChannel: AggregatePageSink {
    private struct State {
        var pages: [[AggregateRow]] = []
        /// The store finished: nil while it reads, then its outcome.
        var end: Result<Void, StoreError>?
        /// The response is gone: nothing more is taken.
        var closed = false
        /// The response waits for the next page.
        var consumer: CheckedContinuation<[AggregateRow]?, any Error>?
        /// A store reading in a task waits for room (resumed with false to offer again).
        var suspendedProducer: CheckedContinuation<Bool, any Error>?
        /// Counts the suspended producer's waits, so a stall timer can tell its wait from a later one.
        var suspensions = 0
        /// A store reading on a thread of its own waits for `room`.
        var blockedProducer = false
    }

    /// Why a store's read ended early: the client stopped taking the answer, or took too long.
    package struct Stalled: Error, CustomStringConvertible {
        package let description: String
    }

    /// How long a streamed answer may take in all.
    package static let defaultStreamLimit: Duration = .seconds(600)

    private let state = Mutex(State())
    /// Signalled when a page is taken while a thread-bound store waits.
    private let room = DispatchSemaphore(value: 0)
    private let capacity: Int
    private let stallLimit: Duration
    private let streamDeadline: ContinuousClock.Instant
    private let streamLimit: Duration

    package init(capacity: Int = 2, stallLimit: Duration = .seconds(30), streamLimit: Duration = defaultStreamLimit) {
        self.capacity = capacity
        self.stallLimit = stallLimit
        self.streamLimit = streamLimit
        streamDeadline = .now + streamLimit
    }

    // MARK: The store's side

    private enum Offer {
        case taken
        case handedOver(CheckedContinuation<[AggregateRow]?, any Error>)
        case full
        case closed
    }

    /// Queues `page` or hands it to a waiting response; `.full` (after `markWaiting`, under
    /// the same lock) when it must wait.
    private func offer(_ page: [AggregateRow], markWaiting: (inout State) -> Void) -> Offer {
        state.withLock { state in
            if state.closed { return .closed }
            if let consumer = state.consumer {
                state.consumer = nil
                return .handedOver(consumer)
            }
            guard state.pages.count >= capacity else {
                state.pages.append(page)
                return .taken
            }
            markWaiting(&state)
            return .full
        }
    }

    /// Ends the stream for the producer: closed, and why.
    private func giveUp(_ reason: String) -> Stalled {
        close()
        return Stalled(description: reason)
    }

    private func checkStreamDeadline() throws {
        if ContinuousClock.now > streamDeadline { throw giveUp("the answer took longer than \(streamLimit) to send") }
    }

    package func acceptBlocking(_ page: [AggregateRow]) throws {
        try checkStreamDeadline()
        let deadline = DispatchTime.now() + .nanoseconds(Int(stallLimit.nanoseconds))
        var timedOut = false
        while true {
            switch offer(page, markWaiting: { $0.blockedProducer = true }) {
            case .taken: return
            case .handedOver(let consumer): consumer.resume(returning: page); return
            case .closed: throw CancellationError()
            case .full:
                // Offered once more after the wait timed out: room may have come just then.
                if timedOut { throw giveUp("the client took no part of the answer for \(stallLimit)") }
                // A signal left from an earlier wait only costs one more turn of the loop.
                timedOut = room.wait(timeout: deadline) == .timedOut
            }
        }
    }

    package func accept(_ page: [AggregateRow]) async throws {
        try checkStreamDeadline()
        while true {
            let taken: Bool = try await withCheckedThrowingContinuation { waiting in
                var suspension = 0
                let offered = offer(page) { state in
                    state.suspendedProducer = waiting
                    state.suspensions += 1
                    suspension = state.suspensions
                }
                switch offered {
                case .taken: waiting.resume(returning: true)
                case .handedOver(let consumer):
                    consumer.resume(returning: page)
                    waiting.resume(returning: true)
                case .closed: waiting.resume(throwing: CancellationError())
                case .full:
                    // Resumed with false once a page is taken (then offered again), or by this timer.
                    Task { [stallLimit, weak self] in
                        try? await Task.sleep(for: stallLimit)
                        self?.stall(suspension)
                    }
                }
            }
            if taken { return }
        }
    }

    /// Ends the suspended producer's wait number `suspension` if it is still waiting.
    private func stall(_ suspension: Int) {
        let producer = state.withLock { state -> CheckedContinuation<Bool, any Error>? in
            guard state.suspensions == suspension, let producer = state.suspendedProducer else { return nil }
            state.suspendedProducer = nil
            return producer
        }
        guard let producer else { return }
        producer.resume(throwing: giveUp("the client took no part of the answer for \(stallLimit)"))
    }

    /// The store's outcome: the answer is complete, or it failed.
    package func finish(_ outcome: Result<Void, StoreError>) {
        let consumer = state.withLock { state in
            state.end = outcome
            defer { state.consumer = nil }
            return state.consumer
        }
        switch outcome {
        case .success: consumer?.resume(returning: nil)
        case .failure(let error): consumer?.resume(throwing: error)
        }
    }

    // MARK: The response's side

    /// The next page, nil once the answer is complete. Cancelling the calling task closes
    /// the channel.
    /// - Throws: the store's error; `CancellationError` once closed.
    package func next() async throws -> [AggregateRow]? {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { consumer in
                enum Step { case page([AggregateRow]), end(Result<Void, StoreError>), closed, wait }
                let step: Step = state.withLock { state in
                    precondition(state.consumer == nil, "one consumer at a time")
                    if !state.pages.isEmpty { return .page(state.pages.removeFirst()) }
                    if let end = state.end { return .end(end) }
                    if state.closed { return .closed }
                    state.consumer = consumer
                    return .wait
                }
                switch step {
                case .page(let page):
                    wakeProducer(throwing: nil)
                    consumer.resume(returning: page)
                case .end(.success): consumer.resume(returning: nil)
                case .end(.failure(let error)): consumer.resume(throwing: error)
                case .closed: consumer.resume(throwing: CancellationError())
                case .wait: break  // resumed by the next page, the end, or close()
                }
            }
        } onCancel: {
            close()
        }
    }

    /// The response is gone: the store's next `accept` or `acceptBlocking` throws, a
    /// waiting one at once, and queued pages are dropped.
    package func close() {
        let consumer = state.withLock { state in
            state.closed = true
            state.pages = []
            defer { state.consumer = nil }
            return state.consumer
        }
        consumer?.resume(throwing: CancellationError())
        wakeProducer(throwing: CancellationError())
    }

    /// Whether the producer waits for room (for tests).
    package var producerIsWaiting: Bool {
        state.withLock { $0.blockedProducer || $0.suspendedProducer != nil }
    }

    /// Lets a waiting store offer its page again, or ends its wait with `error`.
    private func wakeProducer(throwing error: (any Error)?) {
        let (blocked, suspended) = state.withLock { state in
            defer {
                state.blockedProducer = false
                state.suspendedProducer = nil
            }
            return (state.blockedProducer, state.suspendedProducer)
        }
        if blocked { room.signal() }
        if let error { suspended?.resume(throwing: error) } else { suspended?.resume(returning: false) }
    }
}
