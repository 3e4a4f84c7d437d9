internal import SensorCore

/// A store whose queries can answer what the pipeline has aggregated and not yet flushed:
/// the daemon's query routes then answer a reading as soon as it is aggregated, where a
/// store alone answers as of its last committed flush.
public protocol UnflushedAggregateReader: AggregateReader {
    /// The rows of `query`, as ``AggregateReader/aggregates(_:rowLimit:into:)`` answers
    /// them, with the buckets of the parts its snapshot does not hold yet merged in
    /// (``UnflushedPart``). The parts of one shard come older first.
    func aggregates(_ query: AggregateQuery, rowLimit: Int, unflushed: [any UnflushedPart], into sink: any AggregatePageSink) async throws(StoreError)

    /// Every device as ``AggregateReader/devices()`` lists them, with the readings of the
    /// parts its snapshot does not hold yet counted in.
    func devices(unflushed: [any UnflushedTotals]) async throws(StoreError) -> [DeviceSummary]
}
