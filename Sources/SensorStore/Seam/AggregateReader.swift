public import SensorCore

/// What the query surfaces read: aggregates, devices and alerts, as of the last
/// committed flush.
public protocol AggregateReader: Sendable {
    /// The rows of `query` (CONTRACT §5), at most `rowLimit` of them.
    /// - Throws: ``StoreError/tooManyRows(estimated:limit:)`` before any row is built when
    ///   the answer would hold more, ``StoreError/noResolutions`` or a resolution the store
    ///   does not keep, ``StoreError/database(operation:reason:)``.
    func aggregates(_ query: AggregateQuery, rowLimit: Int) async throws(StoreError) -> [AggregateRow]

    /// Every device with its metrics, latest event time and reading count.
    func devices() async throws(StoreError) -> [DeviceSummary]

    /// Alerts firing, and those resolved and not yet pruned.
    func alerts() async throws(StoreError) -> [AlertRecord]

    /// Releases the connections (and a writer's lock). Later calls fail.
    func close() async throws(StoreError)
}

extension AggregateReader {
    /// The rows of `query`, at most ``AggregateQuery/defaultRowLimit``.
    public func aggregates(_ query: AggregateQuery) async throws(StoreError) -> [AggregateRow] {
        try await aggregates(query, rowLimit: AggregateQuery.defaultRowLimit)
    }
}
