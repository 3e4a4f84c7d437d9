import Foundation
import Testing
import SensorCore
@testable import SensorPipeline

private func readings(_ count: Int, start: Int = 0) -> [Reading] {
    (start..<(start + count)).map { Reading(device: "d", metric: "m", value: Double($0), timestamp: Int64($0)) }
}

private func batch(_ count: Int, start: Int = 0) -> JournaledBatch {
    JournaledBatch(readings: readings(count, start: start), position: Int64(start + count), acceptedAt: .now)
}

extension IngestQueue {
    /// Room for `count` readings if there is some now, without waiting.
    fileprivate func reserveNow(_ count: Int) async -> Bool {
        await reserve(count, until: .now) == .reserved
    }

    /// Waits (a minute at most) for room, then enqueues the batch; false if the queue
    /// refused it.
    fileprivate func send(_ batch: JournaledBatch) async -> Bool {
        guard await reserve(batch.readings.count, until: .now + .seconds(60)) == .reserved else { return false }
        enqueueReserved(batch)
        return true
    }
}

/// A producer that a bug left in line would wait forever: the limit makes that a failure.
@Suite(.timeLimit(.minutes(2))) struct IngestQueueTests {
    /// A queued reading is as small as its comment says: its series by number, no names.
    @Test func aQueuedReadingTakes32Bytes() {
        #expect(MemoryLayout<QueuedReading>.stride == 32)
    }

    @Test func consumerTakesEverythingQueuedAtOnceInOrder() async {
        let queue = IngestQueue(capacity: 100)
        #expect(await queue.send(batch(3)))
        #expect(await queue.send(batch(2, start: 3)))
        #expect(queue.depth == 5)
        let taken = await queue.next()
        #expect(taken?.flatMap(\.readings).map(\.value) == [0, 1, 2, 3, 4])
        #expect(queue.depth == 0)
    }

    /// What the flush observer is told is complete: nothing acknowledged before the oldest
    /// reading still queued, or taken by the worker and not yet applied.
    @Test func theOldestUnappliedReadingIsKnownUntilTheWorkerAsksForMore() async {
        let queue = IngestQueue(capacity: 100)
        #expect(queue.oldestUnapplied == nil)
        let first = ContinuousClock.now
        let second = first + .seconds(1)
        #expect(await queue.send(JournaledBatch(readings: readings(1), position: 1, acceptedAt: first)))
        #expect(await queue.send(JournaledBatch(readings: readings(1), position: 2, acceptedAt: second)))
        #expect(queue.oldestUnapplied == first)
        _ = await queue.next()
        #expect(queue.oldestUnapplied == first, "taken, but the worker has not applied them yet")
        let third = second + .seconds(1)
        #expect(await queue.send(JournaledBatch(readings: readings(1), position: 3, acceptedAt: third)))
        _ = await queue.next()
        #expect(queue.oldestUnapplied == third)
        queue.finish()
        #expect(await queue.next() == nil)
        #expect(queue.oldestUnapplied == nil)
    }

    @Test func aFullQueueRefusesAtOnceAndCancellingGivesRoomBack() async {
        let queue = IngestQueue(capacity: 10)
        #expect(await queue.reserveNow(8))
        #expect(await !queue.reserveNow(3))
        #expect(await queue.reserve(3, until: .now - .seconds(1)) == .timedOut, "a deadline already past")
        #expect(queue.waitingProducers == 0)
        queue.cancelReservation(8)
        #expect(await queue.reserveNow(10))
        #expect(queue.depth == 10)
    }

    @Test func oversizedBatchFitsOnlyAnEmptyQueue() async {
        let queue = IngestQueue(capacity: 10)
        #expect(await queue.reserveNow(25))
        #expect(await !queue.reserveNow(1))
    }

    @Test func aProducerWaitsWhileFullAndGetsInWhenTheConsumerTakes() async {
        let queue = IngestQueue(capacity: 4)
        #expect(await queue.send(batch(4)))
        let blocked = Task { await queue.send(batch(2, start: 4)) }
        await queue.waitUntilWaiting(1)
        #expect(queue.depth == 4, "the waiting producer holds no room")
        let first = await queue.next()
        #expect(first?.flatMap(\.readings).count == 4)
        #expect(await blocked.value)
        let second = await queue.next()
        #expect(second?.flatMap(\.readings).map(\.value) == [4, 5])
    }

    @Test func finishRefusesWaitingProducersButDeliversWhatWasQueued() async {
        let queue = IngestQueue(capacity: 2)
        #expect(await queue.send(batch(2)))
        let waiting = Task { await queue.reserve(1, until: .now + .seconds(60)) }
        await queue.waitUntilWaiting(1)
        queue.finish()
        #expect(await waiting.value == .finished)
        #expect(await queue.next()?.flatMap(\.readings).count == 2)
        #expect(await queue.next() == nil)
        #expect(await queue.reserve(1, until: .now + .seconds(60)) == .finished)
        #expect(queue.depth == 0)
    }

    @Test func reservedReadingsAreDeliveredAfterFinish() async {
        let queue = IngestQueue(capacity: 5)
        #expect(await queue.reserveNow(3))
        queue.finish()
        // The consumer may ask before or after the batch comes: either way it gets it.
        let consumer = Task { await queue.next() }
        queue.enqueueReserved(batch(3))
        #expect(await consumer.value?.flatMap(\.readings).count == 3)
        #expect(await queue.next() == nil)
    }

    /// A batch larger than the whole queue gets in once the queue drains, and smaller ones
    /// asking after it wait behind it instead of keeping the queue from ever draining.
    @Test func anOversizedBatchWaitingInLineIsNotOvertakenBySmallerOnes() async {
        let queue = IngestQueue(capacity: 10)
        #expect(await queue.reserveNow(8))
        let large = Task { await queue.reserve(25, until: .now + .seconds(60)) }
        await queue.waitUntilWaiting(1)
        #expect(await !queue.reserveNow(1), "room for one, but the large batch asked first")
        let small = Task { await queue.reserve(1, until: .now + .seconds(60)) }
        await queue.waitUntilWaiting(2)
        queue.cancelReservation(8)
        #expect(await large.value == .reserved)
        #expect(queue.depth == 25 && queue.waitingProducers == 1)
        queue.cancelReservation(25)
        #expect(await small.value == .reserved)
        #expect(queue.depth == 1)
    }

    /// A producer that leaves the line (cancelled, as when its deadline passes) reserves
    /// nothing, and those behind it that fit get in at once.
    @Test func aProducerLeavingTheLineLetsTheOnesBehindIn() async {
        let queue = IngestQueue(capacity: 10)
        #expect(await queue.reserveNow(5))
        let large = Task { await queue.reserve(25, until: .now + .seconds(60)) }
        await queue.waitUntilWaiting(1)
        let small = Task { await queue.reserve(3, until: .now + .seconds(60)) }
        await queue.waitUntilWaiting(2)
        large.cancel()
        #expect(await large.value == .timedOut)
        #expect(await small.value == .reserved)
        #expect(queue.depth == 8 && queue.waitingProducers == 0)
    }

    @Test func aProducerWhoseDeadlinePassesLeavesTheLineWithNothing() async {
        let queue = IngestQueue(capacity: 4)
        #expect(await queue.reserveNow(4))
        #expect(await queue.reserve(1, until: .now + .milliseconds(50)) == .timedOut)
        #expect(queue.waitingProducers == 0 && queue.depth == 4)
    }

    /// The timer of a waiting producer can fire before the producer stands in line (its
    /// task cancelled at once, say): the producer then leaves at once instead of standing
    /// in line with no timer left.
    @Test func aTimerThatFiresBeforeItsProducerStandsInLineEndsTheWait() async {
        let queue = IngestQueue(capacity: 4)
        #expect(await queue.reserveNow(4))
        queue.expire(7)
        #expect(await queue.standInLine(id: 7, count: 1) == .timedOut)
        #expect(queue.waitingProducers == 0 && queue.depth == 4)
    }

    @Test func aProducerCancelledBeforeItAsksGetsOnlyRoomThereIsNow() async {
        let queue = IngestQueue(capacity: 4)
        let (roomNow, noRoom) = await Task {
            withUnsafeCurrentTask { $0?.cancel() }
            let roomNow = await queue.reserve(4, until: .now + .seconds(60))
            let noRoom = await queue.reserve(1, until: .now + .seconds(60))
            return (roomNow, noRoom)
        }.value
        #expect(roomNow == .reserved && noRoom == .timedOut)
        #expect(queue.waitingProducers == 0 && queue.depth == 4)
    }

    /// libmosquitto's blocked thread stands in the same line as tasks: when a task before
    /// it leaves, the thread gets its room.
    @Test func aBlockedThreadBehindATaskThatLeavesGetsItsRoom() async {
        let queue = IngestQueue(capacity: 10)
        #expect(await queue.reserveNow(5))
        let large = Task { await queue.reserve(25, until: .now + .seconds(60)) }
        await queue.waitUntilWaiting(1)
        let thread = await withCheckedContinuation { (done: CheckedContinuation<Bool, Never>) in
            Thread.detachNewThread { done.resume(returning: queue.reserveBlocking(3)) }
            Task {
                await queue.waitUntilWaiting(2)
                large.cancel()
            }
        }
        #expect(thread)
        #expect(await large.value == .timedOut)
        #expect(queue.depth == 8)
    }

    @Test func manyProducersLoseNothing() async {
        let queue = IngestQueue(capacity: 64)
        let producers = 8, perProducer = 500
        let consumer = Task { () -> Int in
            var total = 0
            while let batches = await queue.next() { total += batches.reduce(0) { $0 + $1.readings.count } }
            return total
        }
        await withTaskGroup(of: Void.self) { group in
            for producer in 0..<producers {
                group.addTask {
                    for index in 0..<perProducer {
                        #expect(await queue.send(batch(3, start: producer * 10_000 + index * 3)))
                    }
                }
            }
        }
        queue.finish()
        #expect(await consumer.value == producers * perProducer * 3)
    }
}
