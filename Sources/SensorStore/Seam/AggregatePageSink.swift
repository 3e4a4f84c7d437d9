/// Where a query's answer goes while it is read: its rows, in answer order, a page at a
/// time, so that a large answer (a window over every series of a fleet) is never held
/// whole by the store, by a route or in one JSON text.
///
/// A store calls one of the two methods per page from inside its read transaction, so
/// every page comes from the same snapshot. Which one depends on the store: SQLite reads
/// on a thread of its own and calls ``acceptBlocking(_:)``; PostgreSQL reads in a task and
/// calls ``accept(_:)``. Either may wait for room (backpressure from a
/// slow client), and either may throw to end the read early (the client went away, or
/// stopped reading for too long): the store then stops and rethrows.
public protocol AggregatePageSink: Sendable {
    /// Rows per page the store should hand on (``aggregatePageRows`` unless a sink wants
    /// the answer in fewer, larger pages: a sink that keeps every row takes it in one).
    var pageRows: Int { get }

    /// Takes one page, blocking the calling thread while there is no room.
    func acceptBlocking(_ page: [AggregateRow]) throws

    /// Takes one page, suspending while there is no room.
    func accept(_ page: [AggregateRow]) async throws
}

/// Rows per page that stores hand to an ``AggregatePageSink`` by default: about 1 MB of
/// rows, and as much JSON.
public let aggregatePageRows = 4_096

extension AggregatePageSink {
    public var pageRows: Int { aggregatePageRows }
}
