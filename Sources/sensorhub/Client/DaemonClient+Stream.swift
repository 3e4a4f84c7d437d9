import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension DaemonClient {
    /// The daemon's live bucket updates (`GET /v1/stream`, CONTRACT.md §3), one connection
    /// at a time; `resolution` nil leaves every resolution.
    func liveStream(device: String, metric: String, resolution: String?) throws -> LiveStream {
        var items = [URLQueryItem(name: "device", value: device), URLQueryItem(name: "metric", value: metric)]
        if let resolution { items.append(URLQueryItem(name: "resolution", value: resolution)) }
        // The server sends a heartbeat every 15 s: a minute of silence means a dead peer.
        var request = try request("v1/stream", query: items, timeout: 60)
        request.cachePolicy = .reloadIgnoringLocalCacheData
        request.setValue("text/event-stream", forHTTPHeaderField: "Accept")
        request.setValue("no-cache", forHTTPHeaderField: "Cache-Control")
        return LiveStream(request: request, server: baseURL.absoluteString)
    }
}
