internal import Hummingbird
internal import SensorCore
internal import SensorStore

/// `GET /v1/aggregates` and `GET /v1/devices`: reads through the store's read-only
/// connections, never blocking ingest.
struct QueryRoutes<Context: RequestContext>: Sendable {
    let store: any AggregateReader
    /// `limits.max_query_rows`: larger answers are refused before any work.
    let rowLimit: Int

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
            let rows: [AggregateRow]
            do {
                rows = try await store.aggregates(query, rowLimit: rowLimit)
            } catch {
                let reason: RejectReason? = if case StoreError.tooManyRows = error { .tooManyRows } else { nil }
                throw APIError(.badRequest, "\(error)", reason: reason)
            }
            return JSONResponse.make(text: JSONText.array(rows.map(\.record)))
        }
        group.get("devices") { _, _ in
            let devices = try await store.devices()
            return JSONResponse.make(text: JSONText.array(devices.map {
                DeviceRecord(device: $0.device, metrics: $0.metrics, lastSeen: $0.lastSeen, readings: $0.readings)
            }))
        }
    }
}
