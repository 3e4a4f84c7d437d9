internal import SensorCore
internal import SensorStore

/// The buckets one shard touched since its last flush: per series, per resolution, the
/// windows written to and their partial statistics, plus the series' reading count.
///
/// These are deltas, not totals: the store merges them into what it already holds, which
/// is what makes late readings and crash replay safe. Layout is tuned for the hot path:
/// one dictionary lookup per reading (the series), then a short backwards scan per
/// resolution, because readings of a series mostly arrive in time order.
struct PendingBuckets: Sendable {
    private var slots: [SeriesKey: Int] = [:]
    private var series: [SeriesAccumulator] = []
    private(set) var readingCount = 0
    /// Buckets (series × resolution × window) holding at least one reading.
    private(set) var bucketCount = 0
    /// About how many bytes the buckets hold (``BucketStats/footprint`` summed): a sketch
    /// of far-apart values holds far more than a typical one, so the pipeline bounds this
    /// too, not only the count.
    private(set) var bytes = 0
    /// Readings with a seq left for the store to judge (``hold(_:)``), in arrival order.
    private var held: [Reading] = []

    var isEmpty: Bool { readingCount == 0 }

    /// Adds one reading to every resolution's window of it.
    @inline(__always)
    mutating func add(_ reading: Reading, resolutions: [Resolution]) {
        let key = reading.series
        let slot: Int
        if let existing = slots[key] {
            slot = existing
        } else {
            slot = series.count
            slots[key] = slot
            series.append(SeriesAccumulator(key: key, resolutionCount: resolutions.count))
        }
        let (opened, grownBins) = series[slot].add(reading, resolutions: resolutions)
        bucketCount += opened
        bytes += opened * BucketStats.baseFootprint + 8 * grownBins
        readingCount += 1
    }

    /// Keeps a reading with a seq unbucketed, for a store that judges it against the seq
    /// windows it shares with other daemons (``FlushStore/deduplicatesAtFlush``).
    mutating func hold(_ reading: Reading) {
        held.append(reading)
        bytes += MemoryLayout<Reading>.stride + reading.device.utf8.count + reading.metric.utf8.count
        readingCount += 1
    }

    /// The deltas in the store's terms: one group per series and resolution, windows in
    /// ascending order (the arrays are handed over, not copied bucket by bucket), and the
    /// held readings.
    func flushBatch(resolutions: [Resolution]) -> FlushBatch {
        var groups: [BucketGroup] = []
        groups.reserveCapacity(series.count * resolutions.count)
        var seriesDeltas: [SeriesDelta] = []
        seriesDeltas.reserveCapacity(series.count)
        for accumulator in series {
            seriesDeltas.append(SeriesDelta(series: accumulator.key, readings: accumulator.readings, lastSeen: accumulator.lastSeen))
            for (index, resolution) in resolutions.enumerated() where !accumulator.windows[index].starts.isEmpty {
                let (starts, stats) = accumulator.windows[index].ascending()
                groups.append(BucketGroup(series: accumulator.key, resolution: resolution, windowStarts: starts, stats: stats))
            }
        }
        return FlushBatch(groups: groups, series: seriesDeltas, sequenced: held, resolutions: held.isEmpty ? [] : resolutions)
    }
}

/// One series' pending windows.
private struct SeriesAccumulator: Sendable {
    let key: SeriesKey
    var readings: Int64 = 0
    var lastSeen: Int64 = .min
    var windows: [WindowList]

    init(key: SeriesKey, resolutionCount: Int) {
        self.key = key
        self.windows = Array(repeating: WindowList(), count: resolutionCount)
    }

    /// Adds the reading to its window at every resolution; returns how many windows it
    /// opened and how many sketch bins it added to them.
    @inline(__always)
    mutating func add(_ reading: Reading, resolutions: [Resolution]) -> (opened: Int, grownBins: Int) {
        readings += 1
        if reading.timestamp > lastSeen { lastSeen = reading.timestamp }
        var opened = 0
        var grownBins = 0
        let bin = QuantileSketch.Bin(reading.value)
        for index in resolutions.indices {
            let start = resolutions[index].windowStart(containing: reading.timestamp)
            let (isNew, grown) = windows[index].add(reading.value, at: reading.timestamp, bin: bin, windowStart: start)
            if isNew { opened += 1 }
            grownBins += grown
        }
        return (opened, grownBins)
    }
}

/// Windows of one resolution: parallel arrays. Readings of a series mostly arrive in time
/// order, so the newest window is tried first and a few more are scanned from the newest
/// end; past that (a backlog spread over many windows) a dictionary finds the window, so
/// adding to one of n windows never costs O(n).
private struct WindowList: Sendable {
    /// Windows scanned from the newest end before the index is used.
    private static let scanLimit = 8

    var starts: [Int64] = []
    var stats: [BucketStats] = []
    /// Window start → position; built once the list outgrows the scan.
    private var positions: [Int64: Int]?

    /// Adds the value to its window; says whether that window is new and how many sketch
    /// bins the value added.
    @inline(__always)
    mutating func add(_ value: Double, at timestamp: Int64, bin: QuantileSketch.Bin, windowStart: Int64) -> (isNew: Bool, grownBins: Int) {
        if let position = position(of: windowStart) {
            return (false, stats[position].add(value, at: timestamp, bin: bin))
        }
        var fresh = BucketStats()
        let grown = fresh.add(value, at: timestamp, bin: bin)
        starts.append(windowStart)
        stats.append(fresh)
        positions?[windowStart] = starts.count - 1
        return (true, grown)
    }

    /// The windows in ascending order: as they are when readings came in time order
    /// (no copy then), else sorted.
    func ascending() -> (starts: [Int64], stats: [BucketStats]) {
        if zip(starts, starts.dropFirst()).allSatisfy({ $0 < $1 }) { return (starts, stats) }
        let order = starts.indices.sorted { starts[$0] < starts[$1] }
        return (order.map { starts[$0] }, order.map { stats[$0] })
    }

    @inline(__always)
    private mutating func position(of windowStart: Int64) -> Int? {
        let count = starts.count
        if count > 0, starts[count - 1] == windowStart { return count - 1 }
        guard count > Self.scanLimit else {
            var position = count - 2
            while position >= 0 {
                if starts[position] == windowStart { return position }
                position -= 1
            }
            return nil
        }
        if positions == nil {
            positions = Dictionary(uniqueKeysWithValues: starts.enumerated().map { ($1, $0) })
        }
        return positions?[windowStart]
    }
}
