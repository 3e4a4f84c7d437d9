package import SensorCore

/// Turns the stored chunks of a query's series, fed in (series, chunk start) order, into
/// its answer rows: each chunk's buckets in range go through a ``WindowMerger``, and a
/// series' last windows are emitted when the next series begins. Every store reads its
/// chunks its own way and hands them here, so the same chunks give the same rows.
///
/// Rows are handed on in pages (``takePage()``) as they are emitted, so a store never
/// holds a large answer whole.
package struct AggregateAssembler {
    private let plan: WindowPlan
    private var merger: WindowMerger
    private let singleBuckets: Bool
    private var rows: [AggregateRow] = []
    private var currentID: Int64?
    private var currentSeries = SeriesKey(device: "", metric: "")

    /// Rows per page.
    private let pageRows: Int

    /// `expectedRows` (an upper bound of the answer) sizes the first page (up to 65,536
    /// rows: the bound can be far above the answer).
    package init(plan: WindowPlan, expectedRows: Int, pageRows: Int) {
        self.plan = plan
        self.pageRows = pageRows
        merger = WindowMerger(plan: plan)
        singleBuckets = merger.windowsAreSingleBuckets
        rows.reserveCapacity(min(expectedRows, pageRows, 1 << 16))
    }

    /// Whether a page of `pageRows` is ready to be taken.
    package var hasFullPage: Bool { rows.count >= pageRows }

    /// The rows emitted since the last page was taken, in answer order.
    package mutating func takePage() -> [AggregateRow] {
        let page = rows
        rows = []
        rows.reserveCapacity(min(pageRows, 1 << 16))
        return page
    }

    /// Adds one chunk of the series with id `seriesID`; `series` is evaluated only when the
    /// id differs from the previous chunk's.
    /// - Throws: ``ChunkCodec/Damage`` when the bytes do not decode.
    package mutating func add(
        chunk bytes: UnsafeRawBufferPointer, chunkStart: Int64, seriesID: Int64, series: () -> SeriesKey
    ) throws(ChunkCodec.Damage) {
        if seriesID != currentID {
            if currentID != nil { merger.finish(series: currentSeries, into: &rows) }
            currentID = seriesID
            currentSeries = series()
        }
        var reader = try ChunkCodec.Reader(bytes, chunkStart: chunkStart, resolution: plan.resolution)
        while let bucket = try reader.next() {
            // Records are in ascending window order: past the range, the rest is too.
            guard bucket.windowStart < plan.bucketHigh else { break }
            guard bucket.windowStart >= plan.bucketLow else { continue }
            if singleBuckets {
                let (stats, percentiles) = bucket.statsAndPercentiles
                merger.addSingleBucket(start: bucket.windowStart, stats: stats, percentiles: percentiles, of: currentSeries, into: &rows)
            } else {
                merger.add(bucketStart: bucket.windowStart, stats: bucket.decoded, of: currentSeries, into: &rows)
            }
        }
    }

    /// The last rows (those not taken as pages yet), ordered by series (as fed) and
    /// window start.
    package mutating func finish() -> [AggregateRow] {
        if currentID != nil { merger.finish(series: currentSeries, into: &rows) }
        currentID = nil
        defer { rows = [] }
        return rows
    }
}
