import Dispatch
import Foundation
import SensorCore
@testable import SensorStore
import Synchronization
import Testing

/// Answers handed on in pages (``AggregatePageSink``) and the channel that carries them from
/// a store's reader to an HTTP response (``AggregatePageChannel``): the pages together are
/// the answer, in order; the channel holds at most its capacity; a reader waiting on it
/// ends when the response goes away or stops taking pages.
@Suite struct AggregatePagingTests {
    /// Rows numbered `range`, one per window, in answer order.
    func rows(_ range: Range<Int>) -> [AggregateRow] {
        range.map { i in
            AggregateRow(series: SeriesKey(device: "d", metric: "m"), windowStart: Int64(i), windowEnd: Int64(i) + 1,
                         stats: BucketStats(), percentiles: nil)
        }
    }

    /// Reads the channel to its end, yielding between pages as a slow client would.
    func drain(_ channel: AggregatePageChannel) async throws -> [[AggregateRow]] {
        var pages: [[AggregateRow]] = []
        while let page = try await channel.next() {
            pages.append(page)
            await Task.yield()
        }
        return pages
    }

    /// Polls `condition` every 10 ms for up to 120 s (a loaded CI machine can starve the
    /// threads involved for many seconds).
    func eventually(_ condition: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }

    @Test func storePagesTogetherAreTheAnswerOverRawReadings() async throws {
        let dir = try TempDirectory()
        let store = try await makeStore(dir)
        let devices = (1...12).map { "dev-\($0)" }
        let raw = makeReadings(devices: devices, metrics: ["a", "b"], start: t0, span: 2 * hour, perSeries: 700)
        try await store.write(makeBatch(raw))
        let query = AggregateQuery(window: res("10s"))

        let channel = AggregatePageChannel()
        async let read: Void = {
            do throws(StoreError) {
                try await store.aggregates(query, rowLimit: 1_000_000, into: channel)
                channel.finish(.success(()))
            } catch {
                channel.finish(.failure(error))
            }
        }()
        let pages = try await drain(channel)
        await read

        let expected = expectedWindows(raw, window: res("10s").microseconds)
        #expect(expected.count > 2 * aggregatePageRows, "the answer must span several pages")
        #expect(pages.count >= 3)
        #expect(pages.dropLast().allSatisfy { $0.count >= aggregatePageRows })
        expectRows(pages.flatMap { $0 }, equal: expected)
        // The whole answer, collected, is the same.
        expectRows(try await store.aggregates(query, rowLimit: 1_000_000), equal: expected)
    }

    @Test func blockedReaderHoldsAtMostCapacityAndKeepsOrder() async throws {
        let channel = AggregatePageChannel(capacity: 2, stallLimit: .seconds(600))
        let offered = Atomic<Int>(0)
        let done = Atomic<Bool>(false)
        DispatchQueue.global().async {
            for i in 0..<10 {
                try? channel.acceptBlocking(rows(i..<i + 1))
                offered.add(1, ordering: .sequentiallyConsistent)
            }
            channel.finish(.success(()))
            done.store(true, ordering: .sequentiallyConsistent)
        }
        // The third page waits for room: two are taken while nobody reads.
        #expect(try await eventually { channel.producerIsWaiting })
        #expect(offered.load(ordering: .sequentiallyConsistent) == 2)
        let pages = try await drain(channel)
        #expect(pages.flatMap { $0 }.map(\.windowStart) == Array(0..<10))
        #expect(try await eventually { done.load(ordering: .sequentiallyConsistent) })
    }

    @Test func closingEndsABlockedReader() async throws {
        let channel = AggregatePageChannel(capacity: 1, stallLimit: .seconds(600))
        let outcome = Mutex<(any Error)?>(nil)
        let ended = Atomic<Bool>(false)
        DispatchQueue.global().async {
            do {
                try channel.acceptBlocking(rows(0..<1))
                try channel.acceptBlocking(rows(1..<2))  // waits: full
            } catch {
                outcome.withLock { $0 = error }
            }
            ended.store(true, ordering: .sequentiallyConsistent)
        }
        #expect(try await eventually { channel.producerIsWaiting })
        channel.close()
        #expect(try await eventually { ended.load(ordering: .sequentiallyConsistent) })
        #expect(outcome.withLock { $0 } is CancellationError)
        // After close, nothing is taken.
        #expect(throws: CancellationError.self) { try channel.acceptBlocking(rows(2..<3)) }
        await #expect(throws: CancellationError.self) { try await channel.accept(rows(2..<3)) }
        await #expect(throws: CancellationError.self) { try await channel.next() }
    }

    @Test func readerEndsWhenNoPageIsTakenWithinTheStallLimit() async throws {
        let channel = AggregatePageChannel(capacity: 1, stallLimit: .milliseconds(100))
        let started = ContinuousClock.now
        try channel.acceptBlocking(rows(0..<1))
        #expect(throws: AggregatePageChannel.Stalled.self) { try channel.acceptBlocking(rows(1..<2)) }
        #expect(ContinuousClock.now - started >= .milliseconds(90))
        await #expect(throws: CancellationError.self) { try await channel.next() }

        let suspended = AggregatePageChannel(capacity: 1, stallLimit: .milliseconds(100))
        try await suspended.accept(rows(0..<1))
        await #expect(throws: AggregatePageChannel.Stalled.self) { try await suspended.accept(rows(1..<2)) }
    }

    @Test func readerEndsWhenTheStreamRunsPastItsLimit() async throws {
        let channel = AggregatePageChannel(capacity: 4, streamLimit: .milliseconds(50))
        try channel.acceptBlocking(rows(0..<1))
        try await Task.sleep(for: .milliseconds(100))
        #expect(throws: AggregatePageChannel.Stalled.self) { try channel.acceptBlocking(rows(1..<2)) }
    }

    @Test func suspendedReaderStreamsInOrderAndEndsOnClose() async throws {
        let channel = AggregatePageChannel(capacity: 2, stallLimit: .seconds(600))
        let reader = Task {
            for i in 0..<50 { try await channel.accept(rows(i..<i + 1)) }
            channel.finish(.success(()))
        }
        let pages = try await drain(channel)
        try await reader.value
        #expect(pages.flatMap { $0 }.map(\.windowStart) == Array(0..<50))

        let closed = AggregatePageChannel(capacity: 1, stallLimit: .seconds(600))
        let blocked = Task {
            try await closed.accept(rows(0..<1))
            try await closed.accept(rows(1..<2))  // suspends: full
        }
        #expect(try await eventually { closed.producerIsWaiting })
        closed.close()
        await #expect(throws: CancellationError.self) { try await blocked.value }
    }

    @Test func aWaitingResponseEndsOnCloseAndItsCancellationClosesTheChannel() async throws {
        let channel = AggregatePageChannel()
        let waiting = Task { try await channel.next() }
        try await Task.sleep(for: .milliseconds(20))
        channel.close()
        await #expect(throws: CancellationError.self) { try await waiting.value }

        let other = AggregatePageChannel()
        let cancelled = Task { try await other.next() }
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        #expect(throws: CancellationError.self) { try other.acceptBlocking(rows(0..<1)) }
    }

    @Test func streamSlotsAreLimitedAndFreedWithTheirLease() async throws {
        let slots = StreamSlots(limit: 2)
        let pages = (0..<3).map { _ in AggregatePageChannel(capacity: 1) }
        var first = StreamLease(pages: pages[0], slots: slots)
        let second = StreamLease(pages: pages[1], slots: slots)
        #expect(first != nil && second != nil)
        #expect(StreamLease(pages: pages[2], slots: slots) == nil)
        #expect(slots.inUse == 2)
        // A lease let go of (its response done or dropped) closes its channel and frees its slot.
        first = nil
        #expect(slots.inUse == 1)
        #expect(throws: CancellationError.self) { try pages[0].acceptBlocking(rows(0..<1)) }
        #expect(StreamLease(pages: pages[2], slots: slots) != nil)
        withExtendedLifetime(second) {}
    }

    @Test func storeErrorReachesTheResponseAfterThePagesBeforeIt() async throws {
        let channel = AggregatePageChannel()
        try channel.acceptBlocking(rows(0..<3))
        channel.finish(.failure(.database(operation: "query", reason: "disk I/O error")))
        #expect(try await channel.next()?.count == 3)
        await #expect(throws: StoreError.self) { try await channel.next() }
    }

    @Test func closedResponseEndsTheStoreReadTransaction() async throws {
        let dir = try TempDirectory()
        let store = try await makeStore(dir)
        let raw = makeReadings(devices: (1...24).map { "dev-\($0)" }, metrics: ["a"], start: t0, span: 2 * hour, perSeries: 800)
        try await store.write(makeBatch(raw))
        let channel = AggregatePageChannel(capacity: 1, stallLimit: .seconds(600))
        let read = Task { () async -> StoreError? in
            do throws(StoreError) {
                try await store.aggregates(AggregateQuery(window: res("10s")), rowLimit: 1_000_000, into: channel)
                return nil
            } catch {
                return error
            }
        }
        #expect(try await channel.next()?.count ?? 0 >= aggregatePageRows)
        channel.close()
        let error = await read.value
        guard case .cancelled = error else {
            Issue.record("the read should end cancelled, got \(String(describing: error))")
            return
        }
        // The store is still usable: the next query reads a fresh snapshot.
        #expect(try await store.aggregates(AggregateQuery(window: res("1h"))).isEmpty == false)
    }
}
