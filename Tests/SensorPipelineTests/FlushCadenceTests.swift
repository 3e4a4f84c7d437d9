import Testing
@testable import SensorPipeline

@Suite struct FlushCadenceTests {
    private let start = ContinuousClock.now

    private func at(_ milliseconds: Int) -> ContinuousClock.Instant {
        start + .milliseconds(milliseconds)
    }

    /// Walks the cadence's own looks from 0 to `end` ms, with `applied(ms)` readings
    /// applied so far at each, and returns the times (ms) it flushed at.
    private func flushes(_ cadence: inout FlushCadence, to end: Int, applied: (Int) -> Int) -> [Int] {
        var flushed: [Int] = []
        var now = at(0)
        while true {
            now = cadence.nextLook(after: now)
            let ms = Int((now - start) / .milliseconds(1))
            guard ms <= end else { return flushed }
            if cadence.shouldFlush(at: now, applied: applied(ms)) { flushed.append(ms) }
        }
    }

    @Test func withoutReadingsItFlushesOncePerInterval() {
        var cadence = FlushCadence(interval: .seconds(1), start: start)
        #expect(flushes(&cadence, to: 3_500) { _ in 0 } == [1_000, 2_000, 3_000])
    }

    /// Readings applied all the time (steady load): never quiet, so the interval's cadence.
    @Test func steadyLoadKeepsTheInterval() {
        var cadence = FlushCadence(interval: .seconds(1), start: start)
        #expect(flushes(&cadence, to: 3_500) { $0 * 100 } == [1_000, 2_000, 3_000])
    }

    /// A burst of 320,000 readings that ends at 320 ms is flushed at the first look after a
    /// whole tick saw nothing new (the look at 350 still saw readings), then the interval
    /// runs from there.
    @Test func aBurstIsFlushedOnceIngestGoesQuiet() {
        var cadence = FlushCadence(interval: .seconds(1), start: start)
        #expect(flushes(&cadence, to: 2_000) { min($0, 320) * 1_000 } == [400, 1_400])
    }

    /// A burst that pauses for a tick is flushed then; its tail of 500 readings (fewer than
    /// a burst) is flushed once quiet too, not an interval later. A trickle after that tail
    /// keeps the interval.
    @Test func theTailOfAPausedBurstIsFlushedOnceQuiet() {
        var cadence = FlushCadence(interval: .seconds(1), start: start)
        let times = flushes(&cadence, to: 3_000) { ms in
            switch ms {
            case ..<300: ms * 100           // the burst, 30,000 readings at the look at 300
            case ..<420: 30_000             // a pause: quiet at 350, flushed
            case ..<460: 30_500             // the tail, seen at 450; quiet at 500, flushed
            default: 30_500 + (ms - 460) / 60   // a trickle: the interval, from 500
            }
        }
        #expect(times == [350, 500, 1_500, 2_500])
    }

    /// A small fleet's trickle (a reading every 60 ms, quiet between) is no burst: it keeps
    /// the interval, so the disk is not synced ten times as often.
    @Test func aTrickleKeepsTheInterval() {
        var cadence = FlushCadence(interval: .seconds(1), start: start)
        #expect(flushes(&cadence, to: 3_500) { $0 / 60 } == [1_000, 2_000, 3_000])
    }

    /// Bursts 60 ms apart look quiet at every other look, but quiet flushes stay a tenth
    /// of the interval apart.
    @Test func quietFlushesAreSpacedByATenthOfTheInterval() {
        var cadence = FlushCadence(interval: .seconds(1), start: start)
        let times = flushes(&cadence, to: 1_000) { $0 / 60 * 5_000 }
        #expect(times.count <= 10)
        #expect(times.count >= 3)
        #expect(zip(times, times.dropFirst()).allSatisfy { $1 - $0 >= 100 })
    }

    /// An interval shorter than the tick: looks at the interval, flushes at each.
    @Test func aShortIntervalIsItsOwnTick() {
        var cadence = FlushCadence(interval: .milliseconds(20), start: start)
        #expect(flushes(&cadence, to: 100) { _ in 0 } == [20, 40, 60, 80, 100])
    }
}
