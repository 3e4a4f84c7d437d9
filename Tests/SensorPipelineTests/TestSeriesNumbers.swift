import SensorCore
import Synchronization
@testable import SensorPipeline
import SensorStore

/// Series numbers (``SeriesSlot/index``) for tests that hand readings to the pipeline's
/// parts directly, without a registry: one numbering for the whole test process, so a
/// series has the same number in every batch.
enum TestSeriesNumbers {
    private struct State {
        var numbers: [SeriesKey: Int32] = [:]
        /// By number.
        var keys: [SeriesKey] = []
    }

    private static let state = Mutex(State())

    static func number(of series: SeriesKey) -> Int32 {
        state.withLock { state in
            if let number = state.numbers[series] { return number }
            let number = Int32(state.keys.count)
            state.numbers[series] = number
            state.keys.append(series)
            return number
        }
    }

    /// The series numbered `number`.
    static func series(numbered number: Int32) -> SeriesKey? {
        state.withLock { state in state.keys.indices.contains(Int(number)) ? state.keys[Int(number)] : nil }
    }

    static func part(_ readings: [Reading]) -> ShardPart {
        ShardPart(readings: readings, series: readings.map { number(of: $0.series) })
    }
}

extension JournaledBatch {
    init(readings: [Reading], position: Int64, acceptedAt: ContinuousClock.Instant?, mark: BatchMark? = nil) {
        self.init(TestSeriesNumbers.part(readings), position: position, acceptedAt: acceptedAt, mark: mark)
    }
}

extension SeriesNames {
    /// The keys of the test numbering.
    static let tests = SeriesNames { number in
        guard let series = TestSeriesNumbers.series(numbered: number) else { fatalError("no series numbered \(number)") }
        return series
    }
}

extension PendingBuckets {
    init(resolutions: [Resolution]) {
        self.init(plan: RollupPlan(resolutions: resolutions), names: .tests)
    }

    init(plan: RollupPlan) {
        self.init(plan: plan, names: .tests)
    }

    mutating func add(_ reading: Reading) {
        add(reading.value, at: reading.timestamp, series: TestSeriesNumbers.number(of: reading.series))
    }
}

extension FlushBatch {
    /// Every series delta the batch hands the store, its sources' included.
    var allDeltas: [SeriesDelta] {
        var deltas: [SeriesDelta] = []
        try? forEachSeriesUpdate { if let delta = $0.delta { deltas.append(delta) } }
        return deltas
    }
}

extension ShardIngress {
    func stage(_ readings: [Reading]) throws(JournalError) -> Staged {
        try stage(TestSeriesNumbers.part(readings))
    }

    func recordReplayed(_ readings: [Reading]) {
        recordReplayed(TestSeriesNumbers.part(readings))
    }

    func restore(windows: [SeriesKey: SeqWindow]) {
        for (series, window) in windows { restore(window, of: TestSeriesNumbers.number(of: series)) }
    }
}

extension Pipeline {
    /// Submits readings the way an ingest entry does once they passed its checks, with the
    /// pipeline's own registry numbering their series (whatever the limits).
    func submit(_ readings: [Reading], identity: BatchIdentity? = nil, waitingUpTo wait: Duration) async -> SubmitOutcome {
        await submit(readings, slots: series.register(readings), identity: identity, waitingUpTo: wait)
    }
}

extension PendingBuckets {
    /// The deltas as one flush of this shard alone would hand them to the store.
    func flushBatch() -> FlushBatch {
        var batch = FlushBatch()
        addDeltas(to: &batch)
        return batch
    }
}

extension ShardIngress {
    /// The windows a flush would take now (``takeChangedWindows(_:)``).
    func takeChangedWindows() -> EncodedSeqWindows {
        var changed = EncodedSeqWindows()
        takeChangedWindows { window, number in
            if let series = TestSeriesNumbers.series(numbered: number) { changed.append(window, of: series) }
        }
        return changed
    }
}

extension ShardAggregator {
    convenience init(resolutions: [Resolution], limit: PendingLimit = PendingLimit(buckets: .max, bytes: .max), holdsSequenced: Bool = false) {
        self.init(resolutions: resolutions, names: .tests, limit: limit, holdsSequenced: holdsSequenced)
    }
}
