package import SensorCore

/// Turns the stored chunks of a query's series, fed in (series, chunk start) order, into
/// its answer rows: each chunk's buckets in range go through a ``WindowMerger``, and a
/// series' last windows are emitted when the next series begins. Every store reads its
/// chunks its own way and hands them here, so the same chunks give the same rows.
///
/// Rows are handed on in pages (``takePage()``) as they are emitted, so a store never
/// holds a large answer whole.
///
/// Buckets the pipeline has not flushed yet (``UnflushedGroups``) are merged in as the
/// chunks go by: into the stored bucket of their window, or as windows of their own, and
/// a series only they hold is answered in its place in the store's order.
package struct AggregateAssembler {
    private let plan: WindowPlan
    private var merger: WindowMerger
    private let singleBuckets: Bool
    private var rows: [AggregateRow] = []
    private var currentID: Int64?
    private var currentSeries = SeriesKey(device: "", metric: "")

    private let unflushed: UnflushedGroups
    /// The next series of `unflushed` not reached yet.
    private var nextUnflushed = 0
    /// Whether the series only unflushed buckets hold that come before the current series
    /// are answered (``moveTo(seriesID:series:pageBound:)``).
    private var caughtUp = true
    /// The current series' unflushed buckets, and the next one to add.
    private var currentUnflushed: (group: BucketGroup, next: Int)?

    /// Rows per page.
    private let pageRows: Int

    /// Rows a page may hold past ``pageRows`` in the room it starts with: a page is taken
    /// once full at the end of a chunk or of a series only unflushed buckets hold, so it
    /// runs past `pageRows` by that chunk's or series' windows (a chunk: up to 32 buckets).
    /// With room for `pageRows` alone, nearly every page of a large answer doubled its
    /// buffer for its last few rows, copying the page (a full query of 100,000 series:
    /// pages of 4,097-4,100 rows in buffers of 8,192).
    package static let pageSlack = 64

    /// The room a page starts with.
    private var pageCapacity: Int { min(pageRows, 1 << 16) + Self.pageSlack }

    /// `expectedRows` (an upper bound of the answer) sizes the first page (up to 65,536
    /// rows: the bound can be far above the answer).
    package init(plan: WindowPlan, expectedRows: Int, pageRows: Int, unflushed: UnflushedGroups? = nil) {
        self.plan = plan
        self.pageRows = pageRows
        self.unflushed = unflushed ?? UnflushedGroups(parts: [], checkpoints: [:], plan: plan)
        merger = WindowMerger(plan: plan)
        singleBuckets = merger.windowsAreSingleBuckets
        rows.reserveCapacity(min(expectedRows, pageCapacity))
    }

    /// Whether a page of `pageRows` is ready to be taken.
    package var hasFullPage: Bool { rows.count >= pageRows }

    /// The rows emitted since the last page was taken, in answer order.
    package mutating func takePage() -> [AggregateRow] {
        let page = rows
        rows = []
        rows.reserveCapacity(pageCapacity)
        return page
    }

    /// Adds one chunk of the series with id `seriesID`; `series` is evaluated only when the
    /// id differs from the previous chunk's.
    /// - Throws: ``ChunkCodec/Damage`` when the bytes do not decode.
    package mutating func add(
        chunk bytes: UnsafeRawBufferPointer, chunkStart: Int64, seriesID: Int64, series: () -> SeriesKey
    ) throws(ChunkCodec.Damage) {
        _ = moveTo(seriesID: seriesID, series: series, pageBound: false)
        var reader = try ChunkCodec.Reader(bytes, chunkStart: chunkStart, resolution: plan.resolution)
        while let bucket = try reader.next() {
            // Records are in ascending window order: past the range, the rest is too.
            guard bucket.windowStart < plan.bucketHigh else { break }
            guard bucket.windowStart >= plan.bucketLow else { continue }
            if currentUnflushed != nil {
                // Rows of single buckets are emitted at once, those of merged ones a window
                // later: a series with unflushed buckets goes through the merge alone.
                addUnflushed(before: bucket.windowStart)
                var stats = bucket.decoded
                if let (group, next) = currentUnflushed, next < group.windowStarts.count, group.windowStarts[next] == bucket.windowStart {
                    stats.merge(group.stats[next])
                    currentUnflushed?.next += 1
                }
                merger.add(bucketStart: bucket.windowStart, stats: stats, of: currentSeries, into: &rows)
            } else if singleBuckets {
                let (stats, percentiles) = bucket.statsAndPercentiles
                merger.addSingleBucket(start: bucket.windowStart, stats: stats, percentiles: percentiles, of: currentSeries, into: &rows)
            } else {
                merger.add(bucketStart: bucket.windowStart, stats: bucket.decoded, of: currentSeries, into: &rows)
            }
        }
    }

    /// Makes the series with id `seriesID` the current one, unless it is: emits the last
    /// windows of the one before, then the series only unflushed buckets hold that come
    /// before it. With `pageBound`, those stop at a full page and this returns true: take
    /// the page (``takePage()``) and call again before adding the series' chunk. Thousands
    /// of series pending and not stored yet (a burst of new series) were emitted at once,
    /// 6.7 MB of rows at the peak of such an answer (heaptrack).
    package mutating func moveTo(seriesID: Int64, series: () -> SeriesKey, pageBound: Bool) -> Bool {
        if seriesID != currentID {
            if currentID != nil { finishCurrentSeries() }
            currentID = seriesID
            currentSeries = series()
            caughtUp = false
        }
        guard !caughtUp else { return false }
        addUnflushedSeries(before: currentSeries, untilFullPage: pageBound)
        if pageBound, hasFullPage, nextUnflushed < unflushed.count,
           UnflushedGroups.precedes(unflushed.key(nextUnflushed), currentSeries) {
            return true
        }
        if nextUnflushed < unflushed.count, UnflushedGroups.same(unflushed.key(nextUnflushed), currentSeries) {
            currentUnflushed = unflushed.group(nextUnflushed).map { ($0, 0) }
            nextUnflushed += 1
        }
        caughtUp = true
        return false
    }

    /// Once every chunk is added, the rows left, a page at a time (the last stored series'
    /// windows, then the series only unflushed buckets hold); nil when none are left.
    package mutating func nextFinalPage() -> [AggregateRow]? {
        if currentID != nil { finishCurrentSeries() }
        currentID = nil
        while rows.count < pageRows, nextUnflushed < unflushed.count {
            addUnflushedSeries(limit: 1)
        }
        guard !rows.isEmpty else { return nil }
        // As a page taken on the way: the next starts at its size, where one grown from
        // empty was reallocated twelve times on its way to 4,096 rows (every page of an
        // answer only unflushed buckets hold).
        return takePage()
    }

    /// Emits the current series' last windows, its unflushed buckets past its stored ones
    /// included.
    private mutating func finishCurrentSeries() {
        addUnflushed(before: .max)
        currentUnflushed = nil
        merger.finish(series: currentSeries, into: &rows)
    }

    /// Adds the current series' unflushed buckets that start before `windowStart`.
    private mutating func addUnflushed(before windowStart: Int64) {
        guard let (group, next) = currentUnflushed else { return }
        var position = next
        while position < group.windowStarts.count, group.windowStarts[position] < windowStart {
            merger.add(bucketStart: group.windowStarts[position], stats: group.stats[position], of: currentSeries, into: &rows)
            position += 1
        }
        currentUnflushed?.next = position
    }

    /// Answers the series only unflushed buckets hold that come before `series` in the
    /// store's order (any, for nil), at most `limit` of them, or until a page is full.
    private mutating func addUnflushedSeries(before series: SeriesKey? = nil, limit: Int = .max, untilFullPage: Bool = false) {
        var added = 0
        while added < limit, !(untilFullPage && hasFullPage), nextUnflushed < unflushed.count,
              series.map({ UnflushedGroups.precedes(unflushed.key(nextUnflushed), $0) }) ?? true {
            added += 1
            let group = unflushed.group(nextUnflushed)
            nextUnflushed += 1
            guard let group else { continue }
            for position in group.windowStarts.indices {
                merger.add(bucketStart: group.windowStarts[position], stats: group.stats[position], of: group.series, into: &rows)
            }
            merger.finish(series: group.series, into: &rows)
        }
    }
}
