public import SensorCore
public import SensorStore

/// The daemon's query surfaces: a store's answers with the buckets the pipeline holds and
/// has not flushed merged in, so that a reading is answered as soon as it is aggregated
/// rather than after the next flush (up to `flush_interval` later); the devices' reading
/// counts and latest event times likewise. Alerts are the store's, as of its last flush.
public struct FreshAggregateReader: AggregateReader {
    let store: any UnflushedAggregateReader
    let pipeline: Pipeline

    public init(store: any UnflushedAggregateReader, pipeline: Pipeline) {
        self.store = store
        self.pipeline = pipeline
    }

    /// What the daemon's query surfaces read: `store` with `pipeline`'s unflushed buckets
    /// merged in when `answerUnflushed` (setting `http.answer_unflushed`) and the store
    /// can merge them (SQLite); else `store` itself, as of its last flush (PostgreSQL).
    public static func surfaces(of store: any AggregateReader, pipeline: Pipeline, answerUnflushed: Bool) -> any AggregateReader {
        guard answerUnflushed, let merging = store as? any UnflushedAggregateReader else { return store }
        return FreshAggregateReader(store: merging, pipeline: pipeline)
    }

    public func aggregates(_ query: AggregateQuery, rowLimit: Int, into sink: any AggregatePageSink) async throws(StoreError) {
        let parts = await pipeline.flusher.unflushed { query.selects($0) }
        try await store.aggregates(query, rowLimit: rowLimit, unflushed: parts, into: sink)
    }

    public func devices() async throws(StoreError) -> [DeviceSummary] {
        try await store.devices(unflushed: await pipeline.flusher.unflushedTotals())
    }

    public func alerts() async throws(StoreError) -> [AlertRecord] {
        try await store.alerts()
    }

    public func close() async throws(StoreError) {
        try await store.close()
    }
}
