import Foundation

extension DaemonClient {
    /// The daemon's live bucket updates (`GET /v1/stream`, CONTRACT.md §3), one connection
    /// at a time; `resolution` nil leaves every resolution.
    func liveStream(device: String, metric: String, resolution: String?) throws -> LiveStream {
        var items = [URLQueryItem(name: "device", value: device), URLQueryItem(name: "metric", value: metric)]
        if let resolution { items.append(URLQueryItem(name: "resolution", value: resolution)) }
        var request = try transport.request("v1/stream", query: items)
        request.headers.add(name: "Accept", value: "text/event-stream")
        request.headers.add(name: "Cache-Control", value: "no-cache")
        return LiveStream(transport: transport, request: request)
    }
}
