public import Foundation
public import SensorCore

/// Everything one flush writes, committed by ``SensorStore/write(_:report:)`` in a single
/// transaction: either all of it is stored or none of it.
public struct FlushBatch: Sendable {
    /// Bucket deltas by series and resolution, held as they are.
    public var groups: [BucketGroup]
    /// Bucket deltas built as the store walks them (the aggregation workers' pending
    /// buckets): ``forEachGroup(_:)`` gives these after ``groups``.
    public var groupSources: [any BucketGroupSource]
    /// Series deltas, held as they are; their windows are in ``seqWindows``.
    public var series: [SeriesDelta]
    /// Series updates built as the store walks them (the aggregation workers' pending
    /// series with their windows): ``forEachSeriesUpdate(_:)`` gives these after
    /// ``series`` and ``seqWindows``.
    public var seriesSources: [any SeriesUpdateSource] = []
    /// Journal position per journal shard that these buckets cover; a stored checkpoint
    /// only ever moves forward.
    public var checkpoints: [Int: Int64]
    /// De-duplication state of series that send seq numbers, as of the checkpoints: the
    /// windows of ``series``, or of series without counts in the batch.
    public var seqWindows: EncodedSeqWindows
    /// Waits, blocking its thread, until every record ``seqWindows`` count is durable in
    /// the journal; nil when they already are. A store that writes the windows calls it
    /// after the rest of the transaction and before the commit, so the wait (a journal
    /// sync) overlaps the writing.
    public var seqWindowsDurable: (@Sendable () -> Void)?
    /// Parts of identified batches these buckets hold, remembered in `batch_ledger` so a
    /// batch sent again after a restart is not counted twice.
    public var batchMarks: [BatchMark]
    /// Readings with a seq not yet judged, for a store that de-duplicates them itself in
    /// the flush transaction (``FlushStore/deduplicatesAtFlush``): it admits each through
    /// the series' stored seq window, under that series' lock, and buckets those it
    /// admits at ``resolutions``. Empty for every other store.
    public var sequenced: [Reading]
    /// The resolutions ``sequenced`` readings are bucketed at.
    public var resolutions: [Resolution]
    /// Names this batch across attempts to write it: a store that cannot always tell
    /// whether a commit whose answer was lost went through (PostgreSQL, over a network)
    /// records it, and takes a batch it already committed as written.
    public var id: UUID?

    public init(
        groups: [BucketGroup], series: [SeriesDelta] = [], checkpoints: [Int: Int64] = [:], seqWindows: EncodedSeqWindows = [:],
        batchMarks: [BatchMark] = [], sequenced: [Reading] = [], resolutions: [Resolution] = [],
        groupSources: [any BucketGroupSource] = []
    ) {
        self.groups = groups
        self.groupSources = groupSources
        self.series = series
        self.checkpoints = checkpoints
        self.seqWindows = seqWindows
        self.batchMarks = batchMarks
        self.sequenced = sequenced
        self.resolutions = resolutions
    }

    /// A batch of single buckets, in any order (consecutive ones of the same series and
    /// resolution share a group).
    public init(buckets: [Bucket] = [], series: [SeriesDelta] = [], checkpoints: [Int: Int64] = [:], seqWindows: EncodedSeqWindows = [:]) {
        self.init(groups: [], series: series, checkpoints: checkpoints, seqWindows: seqWindows)
        self.buckets = buckets
    }

    /// The bucket deltas one by one: the groups (and the sources') flattened, or (set)
    /// grouped again, replacing the groups and sources.
    public var buckets: [Bucket] {
        get {
            allGroups.flatMap { group in
                zip(group.windowStarts, group.stats).map {
                    Bucket(series: group.series, resolution: group.resolution, windowStart: $0, stats: $1)
                }
            }
        }
        set {
            groups = []
            groupSources = []
            for bucket in newValue {
                if let last = groups.indices.last, groups[last].series == bucket.series, groups[last].resolution == bucket.resolution {
                    groups[last].windowStarts.append(bucket.windowStart)
                    groups[last].stats.append(bucket.stats)
                } else {
                    groups.append(BucketGroup(series: bucket.series, resolution: bucket.resolution, windowStarts: [bucket.windowStart], stats: [bucket.stats]))
                }
            }
        }
    }

    /// Bucket deltas in all groups.
    public var bucketCount: Int {
        groups.reduce(0) { $0 + $1.stats.count } + groupSources.reduce(0) { $0 + $1.bucketCount }
    }

    /// Every group, the sources' built: for a store that needs them all at once.
    public var allGroups: [BucketGroup] {
        var all = groups
        for source in groupSources { source.forEachGroup { all.append($0) } }
        return all
    }

    /// Calls `body` with every group: ``groups``, then those of each source, built one at
    /// a time, each checked first.
    /// - Throws: ``StoreError/invalidBatch(_:)`` for a window start not aligned to its
    ///   resolution, before `body` sees that group; whatever `body` throws.
    public func forEachGroup(_ body: (BucketGroup) throws -> Void) throws {
        func visit(_ group: BucketGroup) throws {
            try Self.validate(group)
            try body(group)
        }
        for group in groups { try visit(group) }
        for source in groupSources { try source.forEachGroup(visit) }
    }

    /// Calls `body` with the update of every series: those of ``series``, each with the
    /// latest of its windows in ``seqWindows`` (a series with two deltas gets it with the
    /// first), then those windows that have no delta, then the sources' updates. Each
    /// delta is checked first.
    /// - Throws: ``StoreError/invalidBatch(_:)`` for a negative reading count, before
    ///   `body` sees that update; whatever `body` throws.
    public func forEachSeriesUpdate(_ body: (SeriesUpdate) throws -> Void) throws {
        func visit(_ update: SeriesUpdate) throws {
            if let delta = update.delta { try Self.validate(delta) }
            try body(update)
        }
        var latestWindow: [SeriesKey: Int] = [:]
        for (index, series) in seqWindows.series.enumerated() { latestWindow[series] = index }
        for delta in series {
            let window = latestWindow.removeValue(forKey: delta.series).map { seqWindows.window(at: $0) }
            try visit(SeriesUpdate(series: delta.series, delta: delta, window: window))
        }
        for (index, series) in seqWindows.series.enumerated() where latestWindow[series] == index {
            try visit(SeriesUpdate(series: series, delta: nil, window: seqWindows.window(at: index)))
        }
        for source in seriesSources { try source.forEachUpdate(visit) }
    }

    public var isEmpty: Bool {
        groups.isEmpty && groupSources.isEmpty && series.isEmpty && seriesSources.isEmpty && checkpoints.isEmpty && seqWindows.isEmpty
            && batchMarks.isEmpty && sequenced.isEmpty
    }

    /// Checks the rules every store relies on, but the groups' and series updates' (checked
    /// as they are walked, ``forEachGroup(_:)``, ``forEachSeriesUpdate(_:)``): resolutions
    /// for the sequenced readings.
    /// - Throws: ``StoreError/invalidBatch(_:)`` naming the offence.
    package func validate() throws(StoreError) {
        if !sequenced.isEmpty && resolutions.isEmpty {
            throw .invalidBatch("\(sequenced.count) sequenced readings without the resolutions to bucket them at")
        }
    }

    /// No negative reading count.
    private static func validate(_ delta: SeriesDelta) throws(StoreError) {
        if delta.readings < 0 {
            throw .invalidBatch("series \(delta.series) has a negative reading count \(delta.readings)")
        }
    }

    /// Window starts aligned to their resolution.
    private static func validate(_ group: BucketGroup) throws(StoreError) {
        for start in group.windowStarts where group.resolution.windowStart(containing: start) != start {
            throw .invalidBatch("bucket \(group.series) window start \(start) µs is not a multiple of its resolution \(group.resolution)")
        }
    }
}

/// Bucket deltas of one series at one resolution: `stats[i]` is the window starting at
/// `windowStarts[i]`. Windows may come in any order and repeat (the store merges repeats);
/// ascending and unique is what the store writes fastest.
public struct BucketGroup: Sendable {
    public var series: SeriesKey
    /// The writer's tag of the series, when it has one (the pipeline's pending buckets).
    public var tag: SeriesTag?
    public var resolution: Resolution
    public var windowStarts: [Int64]
    public var stats: [BucketStats]

    public init(series: SeriesKey, tag: SeriesTag? = nil, resolution: Resolution, windowStarts: [Int64], stats: [BucketStats]) {
        precondition(windowStarts.count == stats.count, "one window start per bucket")
        self.series = series
        self.tag = tag
        self.resolution = resolution
        self.windowStarts = windowStarts
        self.stats = stats
    }

    /// The bucket at `position`.
    package func bucket(_ position: Int) -> Bucket {
        Bucket(series: series, resolution: resolution, windowStart: windowStarts[position], stats: stats[position])
    }
}
