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
