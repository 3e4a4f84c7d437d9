internal import SensorCore
internal import SensorStore

/// The buckets one shard touched since its last flush: per series, per resolution, the
/// windows written to and their partial statistics, plus the series' reading count.
///
/// These are deltas, not totals: the store merges them into what it already holds, which
/// is what makes late readings and crash replay safe. Layout is tuned for the hot path:
/// the series found by its number (``SeriesSlot``), then a look at the newest window of
/// each resolution the reading is added to, because readings of a series mostly arrive in
/// time order (``WindowList``). A window of one or two readings keeps them, not stats, one
/// a series' readings moved past keeps its stats encoded (``PendingWindow``), and a series
/// of a few readings keeps them without windows (``FirstReadings``).
/// Resolutions a finer one divides only note which windows they will have; their buckets
/// are merged from the finer ones at flush (``RollupPlan``).
struct PendingBuckets: Sendable {
    let plan: RollupPlan
    /// The series' keys: each pending series keeps only its number.
    let names: SeriesNames
    /// By series number: 1 + the series' place in `series`, 0 for a series not here.
    private var places: [Int32] = []
    private var series = PagedArray<SeriesAccumulator>()
    /// The series' readings past the four each keeps in its entry (``FirstReadings``).
    private var chains = ReadingChains()
    private(set) var readingCount = 0
    /// Buckets (series × resolution × window) holding at least one reading, built ones
    /// included.
    private(set) var bucketCount = 0
    /// About how many bytes the buckets would hold as stats (``BucketStats/footprint``
    /// summed, counting a built bucket's bins as if it were added to): a sketch of
    /// far-apart values holds far more than a typical one, so the pipeline bounds this
    /// too, not only the count. An upper bound: windows of one or two readings keep the
    /// readings (``PendingWindow``), and the flush builds the stats one series at a time
    /// (``PendingGroups``).
    private(set) var bytes = 0
    /// Readings with a seq left for the store to judge (``hold(_:)``), in arrival order.
    private var held: [Reading] = []
    /// Reused by every window sealed (``WindowList``), for its sketch's encoding.
    private var sketchScratch: [UInt8] = []

    init(plan: RollupPlan, names: SeriesNames) {
        self.plan = plan
        self.names = names
    }

    var isEmpty: Bool { readingCount == 0 }

    /// Adds one reading to its window of every resolution; `number` is its series'
    /// (``SeriesSlot/index``).
    @inline(__always)
    mutating func add(_ value: Double, at timestamp: Int64, series number: Int32) {
        let index = Int(number)
        places.makeRoom(for: number, filling: 0)
        var slot = Int(places[index]) - 1
        if slot < 0 {
            slot = series.count
            places[index] = Int32(slot + 1)
            series.append(SeriesAccumulator(number: number))
        }
        let (opened, grownBins) = series[slot].add(value, at: timestamp, plan: plan, chains: &chains, sketchScratch: &sketchScratch)
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

    /// The pending buckets of the series `isSelected` picks: what a query merges into its
    /// stored answer (``PendingPart``). The windows are shared, not copied, until either
    /// side changes them; so is the list of series when every one is picked (a query over
    /// the whole fleet; a copy took 17 MB with 100,000 series), and a series the shard
    /// then adds to copies its page of the list (``PagedArray``), not the list.
    func selecting(_ isSelected: (SeriesKey) -> Bool) -> PendingBuckets {
        var selected = PendingBuckets(plan: plan, names: names)
        var picked: [Int] = []
        series.forEachNamed(by: names) { place, key in
            if isSelected(key) { picked.append(place) }
        }
        selected.series = picked.count == series.count ? series : PagedArray(picked.lazy.map { series[$0] })
        selected.chains = chains
        selected.readingCount = selected.series.reduce(0) { $0 + Int($1.readings) }
        return selected
    }

    /// Every series' key, in the order of the series (as ``bucketCount(ofSeriesAt:resolution:startingIn:)``
    /// and ``group(ofSeriesAt:resolution:startingIn:)`` take them).
    var seriesKeys: [SeriesKey] {
        var keys: [SeriesKey] = []
        keys.reserveCapacity(series.count)
        series.forEachNamed(by: names) { _, key in keys.append(key) }
        return keys
    }

    /// The key of the series at `index`.
    func key(ofSeriesAt index: Int) -> SeriesKey {
        names.key(of: series[index].number)
    }

    /// The readings of the series at `index`, and their latest event time.
    func totals(ofSeriesAt index: Int) -> (readings: Int64, lastSeen: Int64) {
        (series[index].readings, series[index].lastSeen(chains: chains))
    }

    /// How many buckets of `resolution` starting in `starts` the series at `index` has.
    func bucketCount(ofSeriesAt index: Int, resolution: Resolution, startingIn starts: Range<Int64>) -> Int {
        guard let position = plan.resolutions.firstIndex(of: resolution) else { return 0 }
        return series[index].windowCount(at: position, of: resolution, startingIn: starts, chains: chains)
    }

    /// The buckets of `resolution` starting in `starts` of the series at `index`, built as
    /// a flush builds them; nil when there are none.
    func group(ofSeriesAt index: Int, resolution: Resolution, startingIn starts: Range<Int64>) -> BucketGroup? {
        guard let position = plan.resolutions.firstIndex(of: resolution) else { return nil }
        let (windowStarts, stats) = series[index].built(plan: plan, only: position, chains: chains)[position].ascending()
        let low = windowStarts.firstIndex { $0 >= starts.lowerBound } ?? windowStarts.count
        let high = windowStarts[low...].firstIndex { $0 >= starts.upperBound } ?? windowStarts.count
        guard low < high else { return nil }
        return BucketGroup(series: names.key(of: series[index].number), resolution: resolution,
                           windowStarts: Array(windowStarts[low..<high]), stats: Array(stats[low..<high]))
    }

    /// Bytes one pending series' entry takes, besides its windows.
    static var seriesEntryStride: Int { MemoryLayout<SeriesAccumulator>.stride }

    /// How many series have pending readings.
    var seriesCount: Int { series.count }

    /// The place of the series numbered `number` (``SeriesSlot/index``) in the pending
    /// series, nil when it has nothing pending.
    func place(ofNumber number: Int32) -> Int? {
        places.place(ofNumber: number)
    }

    /// Adds the deltas to `batch` in the store's terms, built as the store walks them: one
    /// group per series and resolution, windows in ascending order (``PendingGroups``);
    /// each series' counts with its seq window from `windows` (``PendingSeriesUpdates``);
    /// and the held readings.
    func addDeltas(to batch: inout FlushBatch, windows: TakenWindows = TakenWindows(pendingSeries: 0)) {
        if !series.isEmpty || !windows.isEmpty {
            batch.seriesSources.append(PendingSeriesUpdates(series: series, chains: chains, names: names, windows: windows))
        }
        if !series.isEmpty {
            batch.groupSources.append(PendingGroups(plan: plan, names: names, series: series, chains: chains, bucketCount: bucketCount))
        }
        if !held.isEmpty {
            batch.sequenced += held
            if batch.resolutions.isEmpty { batch.resolutions = plan.resolutions }
        }
    }
}

/// The pending buckets of a flush, built series by series as the store walks them: the
/// stats of windows that kept their readings, and the buckets of built resolutions, exist
/// for one series at a time instead of for the whole flush.
private struct PendingGroups: BucketGroupSource {
    let plan: RollupPlan
    let names: SeriesNames
    let series: PagedArray<SeriesAccumulator>
    let chains: ReadingChains
    let bucketCount: Int

    func forEachGroup(_ body: (BucketGroup) throws -> Void) rethrows {
        try series.forEachNamed(by: names) { place, key in
            // Built apart from the entry: the pending lists stay as they are, for a walk again.
            let windows = series[place].built(plan: plan, chains: chains)
            for (index, resolution) in plan.resolutions.enumerated() where !windows[index].starts.isEmpty {
                let (starts, stats) = windows[index].ascending()
                try body(BucketGroup(series: key, tag: names.tag(of: series[place].number), resolution: resolution, windowStarts: starts, stats: stats))
            }
        }
    }
}

/// The pending series' counts, each with its seq window when the flush took one, then
/// the windows of series with nothing pending.
private struct PendingSeriesUpdates: SeriesUpdateSource {
    let series: PagedArray<SeriesAccumulator>
    let chains: ReadingChains
    let names: SeriesNames
    let windows: TakenWindows

    func forEachUpdate(_ body: (SeriesUpdate) throws -> Void) rethrows {
        try series.forEachNamed(by: names) { place, key in
            let delta = SeriesDelta(series: key, readings: series[place].readings, lastSeen: series[place].lastSeen(chains: chains))
            try body(SeriesUpdate(series: key, tag: names.tag(of: series[place].number), delta: delta, window: windows.window(ofPlace: place)))
        }
        let alone = windows.alone
        try names.forEachKey(count: alone.count, number: { alone[$0].number }) { position, key in
            try body(SeriesUpdate(series: key, tag: names.tag(of: alone[position].number), delta: nil, window: windows.encoded[alone[position].window]))
        }
    }
}

/// One series' pending windows, one list per resolution; or, while the series has few
/// readings, just those (``FirstReadings``).
///
/// 72 bytes, one for every pending series. A series with few readings keeps no count,
/// latest time or window lists beside them (the count and the time follow from the
/// readings): with them, an entry took 96 bytes, most pending memory of 100,000 such
/// series.
private struct SeriesAccumulator: Sendable {
    private enum State: Sendable {
        case few(FirstReadings)
        case windowed(Windowed)
    }

    /// A series past its first readings: its count, latest event time and window lists.
    private struct Windowed: Sendable {
        var readings: Int64
        var lastSeen: Int64
        var windows: [WindowList]
    }

    private var state = State.few(FirstReadings())
    /// The series' number (``SeriesSlot/index``): its key is the registry's (``SeriesNames``).
    let number: Int32

    init(number: Int32) {
        self.number = number
    }

    /// The readings added since the last flush.
    var readings: Int64 {
        switch state {
        case .few(let first): Int64(first.count)
        case .windowed(let windowed): windowed.readings
        }
    }

    /// The latest event time of the readings added since the last flush.
    func lastSeen(chains: ReadingChains) -> Int64 {
        switch state {
        case .few(let first): first.latest(chains: chains)
        case .windowed(let windowed): windowed.lastSeen
        }
    }

    /// How many windows starting in `starts` the series has at `resolution`, the one at
    /// `index`.
    func windowCount(at index: Int, of resolution: Resolution, startingIn starts: Range<Int64>, chains: ReadingChains) -> Int {
        switch state {
        case .few(let first): first.windowCount(of: resolution, startingIn: starts, chains: chains)
        case .windowed(let windowed): windowed.windows[index].starts.count { starts.contains($0) }
        }
    }

    /// Adds the reading to its window at every direct resolution, and notes the windows
    /// that opens at the built ones; returns how many windows it opened and how many
    /// sketch bins it added, counting a bin once for every bucket built from the one it
    /// went to (``RollupPlan/reach``).
    @inline(__always)
    mutating func add(
        _ value: Double, at timestamp: Int64, plan: RollupPlan, chains: inout ReadingChains, sketchScratch: inout [UInt8]
    ) -> (opened: Int, grownBins: Int) {
        var windowed: Windowed
        switch state {
        case .few(var first):
            // Kept readings hold no sketch bins, as windows of one or two readings.
            if let opened = first.add(value, at: timestamp, plan: plan, chains: &chains) {
                state = .few(first)
                return (opened, 0)
            }
            windowed = Windowed(readings: Int64(first.count), lastSeen: first.latest(chains: chains),
                                windows: Self.windows(of: first, plan: plan, chains: chains))
        case .windowed(let current):
            windowed = current
            // Out of `state` while it changes, so its lists are not copied on write.
            state = .few(FirstReadings())
        }
        defer { state = .windowed(windowed) }
        windowed.readings += 1
        if timestamp > windowed.lastSeen { windowed.lastSeen = timestamp }
        var opened = 0
        var grownBins = 0
        // Taken once for all resolutions, and only by one whose window has stats.
        var bin: QuantileSketch.Bin?
        for index in plan.direct {
            let resolution = plan.resolutions[index]
            let start = resolution.windowStart(containing: timestamp)
            let (isNew, grown) = windowed.windows[index].add(
                value, at: timestamp, bin: &bin, windowStart: start, resolution: resolution, sketchScratch: &sketchScratch)
            if isNew { opened += 1 + Self.openBuilt(from: index, windowStart: start, plan: plan, in: &windowed.windows) }
            grownBins += grown * plan.reach[index]
        }
        return (opened, grownBins)
    }

    /// Window lists holding the kept readings, added in the order they came. They were
    /// counted when they were kept, so what adding them returns is not counted again. None
    /// of them is sealed: no window holds more than two of them. The readings chained in
    /// the shard's ``ReadingChains`` stay there until the flush takes them.
    private static func windows(of first: FirstReadings, plan: RollupPlan, chains: ReadingChains) -> [WindowList] {
        var windows = Array(repeating: WindowList(), count: plan.resolutions.count)
        var unusedScratch: [UInt8] = []
        first.forEach(chains: chains) { value, timestamp in
            var bin: QuantileSketch.Bin?
            for index in plan.direct {
                let resolution = plan.resolutions[index]
                let start = resolution.windowStart(containing: timestamp)
                if windows[index].add(value, at: timestamp, bin: &bin, windowStart: start, resolution: resolution, sketchScratch: &unusedScratch).isNew {
                    _ = openBuilt(from: index, windowStart: start, plan: plan, in: &windows)
                }
            }
        }
        return windows
    }

    /// Notes, for each resolution built from `index`, the window holding `windowStart`;
    /// returns how many of those were new (and, in turn, built from them).
    private static func openBuilt(from index: Int, windowStart: Int64, plan: RollupPlan, in windows: inout [WindowList]) -> Int {
        var opened = 0
        for child in plan.children[index] {
            let start = plan.resolutions[child].windowStart(containing: windowStart)
            if windows[child].open(windowStart: start) {
                opened += 1 + openBuilt(from: child, windowStart: start, plan: plan, in: &windows)
            }
        }
        return opened
    }

    /// Every window list, each window with its stats: those of readings from them, those of
    /// built resolutions by merging their source's buckets.
    ///
    /// With `only`, just the resolution at that index and those it is built from (a query
    /// reads one resolution).
    func built(plan: RollupPlan, only: Int? = nil, chains: ReadingChains) -> [WindowList] {
        var windows: [WindowList]
        switch state {
        case .few(let first): windows = Self.windows(of: first, plan: plan, chains: chains)
        case .windowed(let windowed): windows = windowed.windows
        }
        for index in plan.direct where only.map({ plan.sources[$0].contains(index) }) ?? true {
            windows[index].buildFromReadings(resolution: plan.resolutions[index])
        }
        for (target, source) in plan.rollups where only.map({ plan.sources[$0].contains(target) }) ?? true {
            let width = plan.resolutions[target]
            windows[target].prepareForBuilding()
            // Read through a copy of the list (two array references), so each bucket is
            // passed to the merge in place rather than copied out of `windows` first.
            let finer = windows[source]
            var last = 0
            for position in finer.starts.indices {
                windows[target].merge(finer.stats[position], windowStart: width.windowStart(containing: finer.starts[position]), after: &last)
            }
        }
        return windows
    }
}

/// Windows of one resolution: parallel arrays, in the order the windows opened. Readings of
/// a series mostly arrive in time order, so the newest window is tried first; while the
/// windows opened in time order a binary search finds the others, and once one opened
/// before the newest (a backlog out of order) a dictionary does, so adding to one of n
/// windows never costs O(n). Before, every list of more than eight windows kept the
/// dictionary: 8.5 MB of the long run's pending memory with 4,000 series.
private struct WindowList: Sendable {
    var starts: [Int64] = []
    /// Every window's stats, once the flush built them (``buildFromReadings(resolution:)``,
    /// ``prepareForBuilding()``).
    var stats: [BucketStats] = []
    /// A resolution readings are added to: every window until the flush, and the stats
    /// of those with more than two readings: in `full` while readings come to them, in
    /// `sealed` once a later window opened (``PendingWindow``).
    private var pending: [PendingWindow] = []
    private var full: [BucketStats] = []
    private var sealed: [UInt8] = []
    /// Window start → position, once a window opened before the newest; until then
    /// `starts` is ascending.
    private var positions: [Int64: Int]?

    /// Adds the value to its window; says whether that window is new and how many sketch
    /// bins the value added. `bin` is the value's, computed here when a window with
    /// stats first needs it.
    @inline(__always)
    mutating func add(
        _ value: Double, at timestamp: Int64, bin: inout QuantileSketch.Bin?, windowStart: Int64, resolution: Resolution,
        sketchScratch: inout [UInt8]
    ) -> (isNew: Bool, grownBins: Int) {
        guard let position = position(of: windowStart) else {
            if let newest = starts.last, newest < windowStart { sealNewest(sketchScratch: &sketchScratch) }
            append(windowStart)
            pending.append(.one(timestamp: timestamp, value: value))
            return (true, 0)
        }
        switch pending[position] {
        case .one(let firstTimestamp, let first):
            pending[position] = .two(timestamp: firstTimestamp, value: first, secondTimestamp: timestamp, second: value)
            return (false, 0)
        case .two:
            var bucket = bucket(at: position, resolution: resolution)
            bucket.add(value, at: timestamp, bin: Self.bin(of: value, known: &bin))
            pending[position] = .full(index: full.count)
            full.append(bucket)
            // The two readings before took no heap bins (``SparseBins``).
            return (false, bucket.sketch.storedBins)
        case .full(let index):
            return (false, full[index].add(value, at: timestamp, bin: Self.bin(of: value, known: &bin)))
        case .sealed:
            // A late reading: the window takes stats again (its record stays, unused, until the flush).
            var bucket = bucket(at: position, resolution: resolution)
            let grown = bucket.add(value, at: timestamp, bin: Self.bin(of: value, known: &bin))
            pending[position] = .full(index: full.count)
            full.append(bucket)
            return (false, grown)
        }
    }

    /// Encodes the stats of the newest window, if it has stats, into `sealed` and lets them
    /// go: a reading of a later window came, and readings of a series mostly come in time
    /// order, so it will hardly get another. In time order `full` then holds one window's
    /// stats at most.
    private mutating func sealNewest(sketchScratch: inout [UInt8]) {
        guard let newest = pending.indices.last, case .full(let index) = pending[newest] else { return }
        pending[newest] = .sealed(offset: sealed.count)
        ChunkCodec.append(index: 0, windowStart: starts[newest], stats: full[index], to: &sealed, sketchBytes: &sketchScratch, decimal: true)
        if index == full.count - 1 {
            full.removeLast()
        } else {
            // Out of order, an older window holds stats after it; its place stays.
            full[index] = BucketStats()
        }
    }

    private func bucket(at position: Int, resolution: Resolution) -> BucketStats {
        pending[position].bucket(full: full, sealed: sealed, windowStart: starts[position], resolution: resolution)
    }

    @inline(__always)
    private static func bin(of value: Double, known: inout QuantileSketch.Bin?) -> QuantileSketch.Bin {
        if let known { return known }
        let bin = QuantileSketch.Bin(value)
        known = bin
        return bin
    }

    /// Gives every window of a resolution readings were added to its stats.
    mutating func buildFromReadings(resolution: Resolution) {
        stats = pending.indices.map { bucket(at: $0, resolution: resolution) }
    }

    /// Opens a window of a built resolution unless there is one; says whether it was new.
    /// Only its start is kept until the flush builds it (``prepareForBuilding()``): with
    /// many sparse series, empty stats for every built window were a third of the pending
    /// memory.
    mutating func open(windowStart: Int64) -> Bool {
        guard position(of: windowStart) == nil else { return false }
        append(windowStart)
        return true
    }

    /// Gives every opened window its (empty) stats, before the merges that build them.
    mutating func prepareForBuilding() {
        stats = Array(repeating: BucketStats(), count: starts.count)
    }

    /// Merges `bucket` into the window opened for it (``open(windowStart:)``). `last` is
    /// where the previous merge went, and becomes this one's: the finer windows mostly
    /// come in time order, so theirs is that window or the next, found without a search.
    mutating func merge(_ bucket: BucketStats, windowStart: Int64, after last: inout Int) {
        if starts.indices.contains(last), starts[last] == windowStart {
            // The same window as the previous merge.
        } else if starts.indices.contains(last + 1), starts[last + 1] == windowStart {
            last += 1
        } else if let position = position(of: windowStart) {
            last = position
        } else {
            preconditionFailure("a built window is opened with the first window it is built from")
        }
        stats[last].merge(bucket)
    }

    /// The windows in ascending order: as they are when they opened in time order (no
    /// copy then), else sorted.
    func ascending() -> (starts: [Int64], stats: [BucketStats]) {
        guard positions != nil else { return (starts, stats) }
        let order = starts.indices.sorted { starts[$0] < starts[$1] }
        return (order.map { starts[$0] }, order.map { stats[$0] })
    }

    @inline(__always)
    private func position(of windowStart: Int64) -> Int? {
        guard let newest = starts.last else { return nil }
        if newest == windowStart { return starts.count - 1 }
        if let positions { return positions[windowStart] }
        guard windowStart < newest else { return nil }
        var low = 0, high = starts.count - 1
        while low < high {
            let middle = (low + high) / 2
            if starts[middle] < windowStart { low = middle + 1 } else { high = middle }
        }
        return starts[low] == windowStart ? low : nil
    }

    /// Adds a window after the others; one that starts before the newest ends the
    /// ascending order, and the dictionary finds windows from then on.
    private mutating func append(_ windowStart: Int64) {
        if positions == nil, let newest = starts.last, windowStart < newest {
            positions = Dictionary(uniqueKeysWithValues: starts.enumerated().map { ($1, $0) })
        }
        starts.append(windowStart)
        positions?[windowStart] = starts.count - 1
    }
}

extension PagedArray where Element == SeriesAccumulator {
    /// Calls `body` with each series' place and key, in order, naming a page of series at
    /// a time (``SeriesNames/forEachKey(count:number:_:)``).
    fileprivate func forEachNamed(by names: SeriesNames, _ body: (_ place: Int, _ key: SeriesKey) throws -> Void) rethrows {
        try names.forEachKey(count: count, number: { self[$0].number }, body)
    }
}
