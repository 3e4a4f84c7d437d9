import Dispatch
import Foundation
import SensorCore
@testable import SensorStore
import Synchronization
import Testing

/// The flush's two threads meet at a `ThreadHandoff`: every batch arrives, in order, then
/// the producer's failure; a consumer that gives up releases a producer waiting for room.
@Suite struct ThreadHandoffTests {
    private struct Refused: Error {}

    @Test func eachProducersBatchesArriveInOrder() throws {
        let handoff = ThreadHandoff<Int>(capacity: 2, producers: 3)
        for producer in 0..<3 {
            Thread {
                for batch in 0..<500 where !handoff.put([producer, batch]) { return }
                handoff.finish()
            }.start()
        }
        var taken: [[Int]] = []
        while let batch = try handoff.take() { taken.append(batch) }
        for producer in 0..<3 {
            #expect(taken.filter { $0[0] == producer }.map { $0[1] } == Array(0..<500), "producer \(producer)")
        }
        #expect(taken.count == 1_500)
    }

    @Test(.timeLimit(.minutes(1))) func aProducersFailureEndsTheTaking() throws {
        let handoff = ThreadHandoff<Int>(capacity: 2, producers: 2)
        #expect(handoff.put([1]))
        handoff.finish(failure: Refused())
        // The other producer is still at work: the failure is thrown all the same.
        #expect(throws: Refused.self) { try handoff.take() }
        handoff.cancel()
        #expect(!handoff.put([2]), "a cancelled handoff takes no more")
        handoff.finish()
        handoff.waitUntilFinished()
    }

    @Test func aFinishedHandoffGivesItsLastBatchesThenNil() throws {
        let handoff = ThreadHandoff<String>(capacity: 4)
        #expect(handoff.put(["a"]) && handoff.put(["b", "c"]))
        handoff.finish()
        #expect(try handoff.take() == ["a"])
        #expect(try handoff.take() == ["b", "c"])
        #expect(try handoff.take() == nil)
    }

    @Test(.timeLimit(.minutes(1))) func aCancelReleasesAProducerWaitingForRoom() async throws {
        let handoff = ThreadHandoff<Int>(capacity: 1)
        #expect(handoff.put([1]))
        let second = Outcome()
        Thread {
            let accepted = handoff.put([2])
            second.accepted.withLock { $0 = accepted }
            handoff.finish()
        }.start()
        let deadline = ContinuousClock.now + .seconds(30)
        while !handoff.producerIsWaiting && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(handoff.producerIsWaiting, "the producer should wait for room while the one batch is not taken")
        handoff.cancel()
        handoff.waitUntilFinished()
        #expect(second.accepted.withLock { $0 } == false, "a cancelled handoff takes no more")
    }

    private final class Outcome: Sendable {
        let accepted = Mutex<Bool?>(nil)
    }
}

/// A chunk merged off the writer's thread is kept only while the cache still shows what
/// it was merged into.
@Suite struct MergeBasisTests {
    private let key = ChunkKey(seriesID: 7, resolution: Resolution(seconds: 10)!, chunkStart: 3_200_000_000)

    @Test func cachedBytesAreCurrentUntilTheChunkIsWrittenAgain() {
        var cache = ChunkCache()
        let stored: [UInt8] = [1, 2, 3]
        cache.record(key.cacheSlot, chunkStart: key.chunkStart, bytes: stored)
        let basis = MergeBasis.cached(cache.stored(key.cacheSlot, chunkStart: key.chunkStart)!)
        #expect(basis.isCurrent(for: key, in: cache))
        // The same bytes written again are another array: the merge may have missed a delta.
        cache.record(key.cacheSlot, chunkStart: key.chunkStart, bytes: [1, 2, 3].map { $0 })
        #expect(!basis.isCurrent(for: key, in: cache))
        // A newer chunk of the slot replaces the entry.
        let fresh = MergeBasis.cached(cache.stored(key.cacheSlot, chunkStart: key.chunkStart)!)
        cache.record(key.cacheSlot, chunkStart: key.chunkStart + 320_000_000, bytes: [9])
        #expect(!fresh.isCurrent(for: key, in: cache))
    }

    @Test func noRowIsCurrentUntilTheChunkOrANewerOneOfTheSlotIsWritten() {
        var cache = ChunkCache()
        #expect(MergeBasis.absent.isCurrent(for: key, in: cache))
        cache.record(ChunkCache.Slot(seriesID: 8, resolution: 10), chunkStart: key.chunkStart, bytes: [1])
        #expect(MergeBasis.absent.isCurrent(for: key, in: cache), "another series' chunk changes nothing")
        cache.record(key.cacheSlot, chunkStart: key.chunkStart - 320_000_000, bytes: [1])
        #expect(MergeBasis.absent.isCurrent(for: key, in: cache), "only an older chunk of the slot was written")
        cache.record(key.cacheSlot, chunkStart: key.chunkStart + 320_000_000, bytes: [2])
        #expect(!MergeBasis.absent.isCurrent(for: key, in: cache), "a newer chunk of the slot was written: this one may have been")
        // An older chunk recorded after a newer one leaves the entry as it was.
        cache.record(key.cacheSlot, chunkStart: key.chunkStart - 320_000_000, bytes: [3])
        #expect(cache.stored(key.cacheSlot, chunkStart: key.chunkStart + 320_000_000) == [2])
    }
}
