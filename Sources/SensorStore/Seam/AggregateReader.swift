public import SensorCore
internal import Synchronization

/// What the query surfaces read: aggregates, devices and alerts. A store answers as of
/// its last committed flush; the daemon's surfaces may add what is not flushed yet
/// (``UnflushedAggregateReader``).
public protocol AggregateReader: Sendable {
    /// Hands the rows of `query` (CONTRACT §5), at most `rowLimit` of them, to `sink` in
    /// answer order, a page at a time, all read from one snapshot.
    /// - Throws: ``StoreError/tooManyRows(possible:limit:)`` before any row is built (and
    ///   any page handed on) when the answer could hold more, ``StoreError/noStoredResolutions``
    ///   or a resolution the store does not keep, ``StoreError/database(operation:reason:)``;
    ///   what `sink` threw, wrapped (a ``CancellationError`` as ``StoreError/cancelled``).
    func aggregates(_ query: AggregateQuery, rowLimit: Int, into sink: any AggregatePageSink) async throws(StoreError)

    /// Every device with its metrics, latest event time and reading count.
    func devices() async throws(StoreError) -> [DeviceSummary]

    /// Alerts firing, and those resolved and not yet pruned.
    func alerts() async throws(StoreError) -> [AlertRecord]

    /// Releases the connections (and a writer's lock). Later calls fail.
    func close() async throws(StoreError)
}

extension AggregateReader {
    /// The rows of `query`, at most `rowLimit` of them, whole: for answers that are used
    /// as a whole (the rule engine, the CLI's `--db`); the HTTP route streams its pages.
    public func aggregates(_ query: AggregateQuery, rowLimit: Int) async throws(StoreError) -> [AggregateRow] {
        let collected = CollectedPages()
        try await aggregates(query, rowLimit: rowLimit, into: collected)
        return collected.rows
    }

    /// The rows of `query`, at most ``AggregateQuery/defaultRowLimit``.
    public func aggregates(_ query: AggregateQuery) async throws(StoreError) -> [AggregateRow] {
        try await aggregates(query, rowLimit: AggregateQuery.defaultRowLimit)
    }
}

/// A sink that keeps every page: the whole answer, taken as one page (no copy of each
/// page into a growing array).
private final class CollectedPages: AggregatePageSink {
    private let collected = Mutex<[AggregateRow]>([])

    var pageRows: Int { .max }

    var rows: [AggregateRow] { collected.withLock { $0 } }

    func acceptBlocking(_ page: [AggregateRow]) {
        collected.withLock { rows in
            if rows.isEmpty { rows = page } else { rows.append(contentsOf: page) }
        }
    }

    func accept(_ page: [AggregateRow]) async {
        acceptBlocking(page)
    }
}
