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
    /// the interval, so the disk is not synced ten times as often. The interval runs from
    /// the look before the first reading was seen (at 100): 50.
    @Test func aTrickleKeepsTheInterval() {
        var cadence = FlushCadence(interval: .seconds(1), start: start)
        #expect(flushes(&cadence, to: 3_500) { $0 / 60 } == [1_050, 2_050, 3_050])
    }

    /// A burst from 700 to 1,500 ms after a quiet spell: the interval counts from the look
    /// before it was seen (700), so no flush falls due inside it at 1,000 (which would
    /// write its first part, and the next flush its chunks again); it is flushed once,
    /// when quiet.
    @Test func aBurstAfterAQuietSpellIsFlushedOnceItEnds() {
        var cadence = FlushCadence(interval: .seconds(1), start: start)
        #expect(flushes(&cadence, to: 2_000) { ms in (min(ms, 1_500) - min(ms, 700)) * 1_000 } == [1_550])
    }

    /// Whatever the traffic, a reading is flushed at most an interval after it was
    /// applied: no later than an interval after the last look that had not seen it.
    @Test(arguments: [
        // Trickles: a reading every `period` ms from `first`.
        (first: 0, period: 60, burst: 0), (first: 333, period: 7, burst: 0), (first: 700, period: 130, burst: 0),
        (first: 999, period: 999, burst: 0), (first: 10, period: 1_001, burst: 0), (first: 1_234, period: 2_500, burst: 0),
        // Bursts of `burst` ms, `period` ms apart, from `first`.
        (first: 700, period: 3_000, burst: 800), (first: 120, period: 1_300, burst: 1_100), (first: 990, period: 400, burst: 90),
    ])
    func noReadingWaitsMoreThanAnInterval(traffic: (first: Int, period: Int, burst: Int)) {
        func applied(_ ms: Int) -> Int {
            guard ms >= traffic.first else { return 0 }
            let (cycles, into) = (ms - traffic.first).quotientAndRemainder(dividingBy: traffic.period)
            return traffic.burst == 0 ? cycles + 1 : (cycles * traffic.burst + min(into, traffic.burst)) * 100
        }
        var cadence = FlushCadence(interval: .seconds(1), start: start)
        var looks: [(ms: Int, flushed: Bool, applied: Int)] = []
        var now = at(0)
        while true {
            now = cadence.nextLook(after: now)
            let ms = Int((now - start) / .milliseconds(1))
            guard ms <= 8_000 else { break }
            let count = applied(ms)
            looks.append((ms, cadence.shouldFlush(at: now, applied: count), count))
        }
        #expect(looks.contains { $0.flushed })
        for (previous, look) in zip([(ms: 0, flushed: false, applied: 0)] + looks, looks) where look.applied > previous.applied {
            guard let flush = looks.first(where: { $0.ms >= look.ms && $0.flushed }) else { continue }
            #expect(flush.ms <= previous.ms + 1_000, "readings seen at \(look.ms) ms flushed at \(flush.ms)")
        }
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
