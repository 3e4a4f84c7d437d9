internal import Dispatch
internal import Synchronization

/// Carries a streamed query's pages from the store that reads them to the response that
/// writes them, holding at most `capacity` pages between the two: the daemon's memory for
/// one answer stays a few pages whatever its size, and the store's reader waits while
/// the client reads slowly.
///
/// A reader must not wait forever: its read transaction pins a snapshot (SQLite cannot
/// checkpoint its WAL past it). So once the response is gone (``close()``: the client
/// disconnected or the answer was written), or when no page was taken for `stallLimit`,
/// the store's next `accept` or `acceptBlocking` throws and its read ends.
package final class AggregatePageChannel: AggregatePageSink {
    private struct State {
        var pages: [[AggregateRow]] = []
        /// The store finished: nil while it reads, then its outcome.
        var end: Result<Void, StoreError>?
        /// The response is gone: nothing more is taken.
        var closed = false
        /// The response waits for the next page.
        var consumer: CheckedContinuation<[AggregateRow]?, any Error>?
        /// A store reading in a task waits for room.
        var suspendedProducer: CheckedContinuation<Bool, any Error>?
        /// A store reading on a thread of its own waits for `room`.
        var blockedProducer = false
    }

    /// Why a store's read ended early.
    package struct Stalled: Error, CustomStringConvertible {
        package let limit: Duration
        package var description: String { "the client took no part of the answer for \(limit)" }
    }

    private let state = Mutex(State())
    /// Signalled when a page is taken while a thread-bound store waits.
    private let room = DispatchSemaphore(value: 0)
    private let capacity: Int
    private let stallLimit: Duration

    package init(capacity: Int = 2, stallLimit: Duration = .seconds(30)) {
        self.capacity = capacity
        self.stallLimit = stallLimit
    }

    // MARK: The store's side

    private enum Offer {
        case taken
        case handedOver(CheckedContinuation<[AggregateRow]?, any Error>)
        case full
        case closed
    }

    /// Queues `page` or hands it to a waiting response; `.full` when it must wait.
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

    package func acceptBlocking(_ page: [AggregateRow]) throws {
        let deadline = DispatchTime.now() + .nanoseconds(Int(stallLimit.nanoseconds))
        while true {
            switch offer(page, markWaiting: { $0.blockedProducer = true }) {
            case .taken: return
            case .handedOver(let consumer): consumer.resume(returning: page); return
            case .closed: throw CancellationError()
            case .full:
                // A signal left from an earlier wait only costs one more turn of the loop.
                if room.wait(timeout: deadline) == .timedOut {
                    close()
                    throw Stalled(limit: stallLimit)
                }
            }
        }
    }

    package func accept(_ page: [AggregateRow]) async throws {
        while true {
            let taken: Bool = try await withCheckedThrowingContinuation { waiting in
                switch offer(page, markWaiting: { $0.suspendedProducer = waiting }) {
                case .taken: waiting.resume(returning: true)
                case .handedOver(let consumer):
                    consumer.resume(returning: page)
                    waiting.resume(returning: true)
                case .closed: waiting.resume(throwing: CancellationError())
                case .full: break  // resumed with false once a page is taken: offered again
                }
            }
            if taken { return }
        }
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

    /// The next page, nil once the answer is complete.
    /// - Throws: the store's error.
    package func next() async throws -> [AggregateRow]? {
        try await withCheckedThrowingContinuation { consumer in
            enum Step { case page([AggregateRow]), end(Result<Void, StoreError>), wait }
            let step: Step = state.withLock { state in
                if !state.pages.isEmpty { return .page(state.pages.removeFirst()) }
                if let end = state.end { return .end(end) }
                state.consumer = consumer
                return .wait
            }
            switch step {
            case .page(let page):
                wakeProducer(throwing: nil)
                consumer.resume(returning: page)
            case .end(.success): consumer.resume(returning: nil)
            case .end(.failure(let error)): consumer.resume(throwing: error)
            case .wait: break  // resumed by the next page or the end
            }
        }
    }

    /// The response is gone: the store's next `accept` or `acceptBlocking` throws, and queued pages are dropped.
    package func close() {
        let pending = state.withLock { state in
            state.closed = true
            state.pages = []
            defer { state.consumer = nil }
            return state.consumer
        }
        pending?.resume(throwing: CancellationError())
        wakeProducer(throwing: CancellationError())
    }

    /// Lets a waiting store offer its page again.
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

extension Duration {
    fileprivate var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
