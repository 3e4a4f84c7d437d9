import Testing
import SensorCore
@testable import SensorPipeline

private func readings(_ count: Int, start: Int = 0) -> [Reading] {
    (start..<(start + count)).map { Reading(device: "d", metric: "m", value: Double($0), timestamp: Int64($0)) }
}

private func batch(_ count: Int, start: Int = 0) -> JournaledBatch {
    JournaledBatch(readings: readings(count, start: start), position: Int64(start + count), acceptedAt: .now)
}

@Suite struct IngestQueueTests {
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

    @Test func tryReserveRefusesWhenFullAndCancelGivesRoomBack() {
        let queue = IngestQueue(capacity: 10)
        #expect(queue.tryReserve(8))
        #expect(!queue.tryReserve(3))
        queue.cancelReservation(8)
        #expect(queue.tryReserve(10))
        #expect(queue.depth == 10)
    }

    @Test func oversizedBatchFitsOnlyAnEmptyQueue() {
        let queue = IngestQueue(capacity: 10)
        #expect(queue.tryReserve(25))
        #expect(!queue.tryReserve(1))
    }

    @Test func sendSuspendsWhileFullAndResumesWhenTheConsumerTakes() async {
        let queue = IngestQueue(capacity: 4)
        #expect(await queue.send(batch(4)))
        let blocked = Task { await queue.send(batch(2, start: 4)) }
        // The producer cannot get in while the queue is full...
        try? await Task.sleep(for: .milliseconds(50))
        #expect(queue.depth == 4)
        // ...and gets in as soon as the consumer takes the first batch.
        let first = await queue.next()
        #expect(first?.flatMap(\.readings).count == 4)
        #expect(await blocked.value)
        let second = await queue.next()
        #expect(second?.flatMap(\.readings).map(\.value) == [4, 5])
    }

    @Test func finishRefusesWaitingProducersButDeliversWhatWasQueued() async {
        let queue = IngestQueue(capacity: 2)
        #expect(await queue.send(batch(2)))
        let waiting = Task { await queue.send(batch(1, start: 2)) }
        try? await Task.sleep(for: .milliseconds(20))
        queue.finish()
        #expect(await waiting.value == false)
        #expect(await queue.next()?.flatMap(\.readings).count == 2)
        #expect(await queue.next() == nil)
        #expect(!queue.tryReserve(1))
    }

    @Test func reservedReadingsAreDeliveredAfterFinish() async {
        let queue = IngestQueue(capacity: 5)
        #expect(queue.tryReserve(3))
        queue.finish()
        let consumer = Task { await queue.next() }
        try? await Task.sleep(for: .milliseconds(20))
        queue.enqueueReserved(batch(3))
        #expect(await consumer.value?.flatMap(\.readings).count == 3)
        #expect(await queue.next() == nil)
    }

    /// Waits (generously) until `count` producers stand in the queue's line.
    private func waitUntil(_ queue: IngestQueue, hasWaiting count: Int) async {
        let deadline = ContinuousClock.now + .seconds(60)
        while queue.waitingProducers < count, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(2))
        }
        #expect(queue.waitingProducers == count)
    }

    /// A batch larger than the whole queue gets in once the queue drains, and smaller ones
    /// asking after it wait behind it instead of keeping the queue from ever draining.
    @Test func anOversizedBatchWaitingInLineIsNotOvertakenBySmallerOnes() async {
        let queue = IngestQueue(capacity: 10)
        #expect(queue.tryReserve(8))
        let large = Task { await queue.reserve(25, until: .now + .seconds(60)) }
        await waitUntil(queue, hasWaiting: 1)
        #expect(!queue.tryReserve(1), "room for one, but the large batch asked first")
        let small = Task { await queue.reserve(1, until: .now + .seconds(60)) }
        await waitUntil(queue, hasWaiting: 2)
        queue.cancelReservation(8)
        #expect(await large.value == .admitted)
        #expect(queue.depth == 25 && queue.waitingProducers == 1)
        queue.cancelReservation(25)
        #expect(await small.value == .admitted)
        #expect(queue.depth == 1)
    }

    /// A producer whose deadline passes leaves the line with nothing reserved, and those
    /// behind it that fit get in.
    @Test func aWaiterWhoseDeadlinePassesLeavesTheLineAndLetsTheOnesBehindIn() async {
        let queue = IngestQueue(capacity: 10)
        #expect(queue.tryReserve(5))
        let large = Task { await queue.reserve(25, until: .now + .milliseconds(200)) }
        await waitUntil(queue, hasWaiting: 1)
        let small = Task { await queue.reserve(3, until: .now + .seconds(60)) }
        #expect(await large.value == .timedOut)
        #expect(await small.value == .admitted)
        #expect(queue.depth == 8 && queue.waitingProducers == 0)
    }

    @Test func aPassedDeadlineAnswersAtOnceWhenThereIsNoRoom() async {
        let queue = IngestQueue(capacity: 4)
        #expect(queue.tryReserve(4))
        #expect(await queue.reserve(1, until: .now - .seconds(1)) == .timedOut)
        #expect(queue.waitingProducers == 0 && queue.depth == 4)
    }

    @Test func cancellingAWaitingProducerEndsItsWait() async {
        let queue = IngestQueue(capacity: 4)
        #expect(queue.tryReserve(4))
        let waiting = Task { await queue.reserve(2, until: .now + .seconds(600)) }
        await waitUntil(queue, hasWaiting: 1)
        waiting.cancel()
        #expect(await waiting.value == .timedOut)
        #expect(queue.waitingProducers == 0 && queue.depth == 4)
    }

    @Test func finishRefusesAProducerWaitingWithADeadline() async {
        let queue = IngestQueue(capacity: 4)
        #expect(queue.tryReserve(4))
        let waiting = Task { await queue.reserve(2, until: .now + .seconds(600)) }
        await waitUntil(queue, hasWaiting: 1)
        queue.finish()
        #expect(await waiting.value == .finished)
        #expect(queue.depth == 4)
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
                        _ = await queue.send(batch(3, start: producer * 10_000 + index * 3))
                    }
                }
            }
        }
        queue.finish()
        #expect(await consumer.value == producers * perProducer * 3)
    }
}
