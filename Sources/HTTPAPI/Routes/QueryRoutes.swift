internal import Hummingbird
internal import Logging
internal import NIOCore
internal import SensorCore
internal import SensorStore
internal import Synchronization

/// `GET /v1/aggregates` and `GET /v1/devices`: reads through the store's read-only
/// connections; the pending buckets they merge in are picked under each shard's lock, for
/// as long as a glob test per pending series takes.
///
/// An answer of one page (4,096 rows) is sent whole (with its length); a longer one is streamed page by
/// page as the store reads it (``AggregatePageChannel``), so a query over a whole fleet
/// costs the daemon a few pages of memory, not the answer three times over (rows, JSON
/// text, response buffer: 470 MB for a million rows).
struct QueryRoutes<Context: RequestContext>: Sendable {
    let store: any AggregateReader
    /// `limits.max_query_rows`: larger answers are refused before any work.
    let rowLimit: Int
    /// Answers being streamed: each holds a store reader while its client reads.
    let streams: StreamSlots
    let logger: Logger
    /// Rows of a streamed answer written to the response at a time.
    private static var writeRows: Int { 512 }

    func register(on group: RouterGroup<Context>) {
        group.get("aggregates") { request, _ in
            let parameters = request.uri.queryParameters
            let query: AggregateQuery
            do throws(QueryArgumentError) {
                query = try AggregateQuery(
                    device: parameters["device"].map(String.init), metric: parameters["metric"].map(String.init),
                    window: parameters["window"].map(String.init), step: parameters["step"].map(String.init),
                    from: parameters["from"].map(String.init), to: parameters["to"].map(String.init))
            } catch {
                throw APIError(.badRequest, error.message)
            }
            return try await answer(query)
        }
        group.get("devices") { _, _ in
            let devices = try await store.devices()
            return JSONResponse.make(text: JSONText.array(devices.map {
                DeviceRecord(device: $0.device, metrics: $0.metrics, lastSeen: $0.lastSeen, readings: $0.readings)
            }))
        }
    }

    /// Runs `query` and answers with its rows: 400 when it cannot run (the store's error,
    /// known before any row is sent), else 200 and the rows as a JSON array.
    private func answer(_ query: AggregateQuery) async throws -> Response {
        // One page waiting: with the page the store builds and the one being written,
        // three pages of rows (1.1 MB each) for an answer of any size.
        let pages = AggregatePageChannel(capacity: 1)
        Task { [store, rowLimit] in
            do throws(StoreError) {
                try await store.aggregates(query, rowLimit: rowLimit, into: pages)
                pages.finish(.success(()))
            } catch {
                pages.finish(.failure(error))
            }
        }
        let first: [AggregateRow]?
        let second: [AggregateRow]?
        do {
            first = try await pages.next()
            second = first == nil ? nil : try await pages.next()
        } catch {
            pages.close()
            let reason: RejectReason? = if case StoreError.tooManyRows = error { .tooManyRows } else { nil }
            throw APIError(.badRequest, "\(error)", reason: reason)
        }
        guard let first, let second else {
            return JSONResponse.make(text: JSONText.array((first ?? []).map(\.record)))
        }
        guard let stream = StreamLease(pages: pages, slots: streams) else {
            pages.close()
            var error = APIError(.serviceUnavailable, """
                \(streams.limit) answers of more than \(aggregatePageRows) rows are being sent already; \
                retry shortly, or narrow the query (device, metric, from, to)
                """)
            error.headers[.retryAfter] = "1"
            throw error
        }
        let opening = OpeningPages([first, second])
        let body = ResponseBody { [logger] writer in
            defer { stream.pages.close() }
            var json = JSONText.AggregateArray()
            /// A page's rows as text, a slice at a time: the text and its copy in the
            /// buffer written are a slice's (170 KB), not a page's (1.4 MB each).
            func write(_ rows: [AggregateRow]) async throws {
                for start in stride(from: 0, to: rows.count, by: Self.writeRows) {
                    json.append(rows[start..<min(start + Self.writeRows, rows.count)].lazy.map(\.record))
                    try await writer.write(ByteBuffer(string: json.take()))
                }
            }
            do {
                while let rows = opening.next() { try await write(rows) }
                while let rows = try await stream.pages.next() { try await write(rows) }
            } catch let error as StoreError {
                // The status is sent: all the client sees is an answer cut short.
                logger.warning("a streamed query answer ended early", metadata: ["error": "\(error)"])
                throw error
            }
            try await writer.write(ByteBuffer(string: json.finish()))
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: body)
    }
}

/// The first two pages of a streamed answer, read before it was known to stream: handed
/// over one at a time, so each is let go once written instead of held by the response
/// until its end.
private final class OpeningPages: Sendable {
    private let pages: Mutex<[[AggregateRow]]>

    init(_ pages: [[AggregateRow]]) {
        self.pages = Mutex(pages)
    }

    /// The next page not yet handed over; nil once both were.
    func next() -> [AggregateRow]? {
        pages.withLock { $0.isEmpty ? nil : $0.removeFirst() }
    }
}
