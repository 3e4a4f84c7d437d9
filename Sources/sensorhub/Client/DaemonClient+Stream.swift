import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension DaemonClient {
    /// The daemon's live bucket updates (`GET /v1/stream`, CONTRACT.md §3), one connection
    /// at a time; `nil` filters are left to the server's defaults (every series, every
    /// resolution). The token goes in the `Authorization` header, not the URL, so it stays
    /// out of access logs.
    func liveStream(device: String?, metric: String?, resolution: String?) throws -> LiveStream {
        var components = URLComponents(url: baseURL.appendingPathComponent("v1/stream"), resolvingAgainstBaseURL: false)
        var items: [URLQueryItem] = []
        if let device { items.append(URLQueryItem(name: "device", value: device)) }
        if let metric { items.append(URLQueryItem(name: "metric", value: metric)) }
        if let resolution { items.append(URLQueryItem(name: "resolution", value: resolution)) }
        if !items.isEmpty { components?.queryItems = items }
        guard let url = components?.url else { throw CommandFailure.usage("invalid --server \"\(baseURL)\"") }
        // The server sends a heartbeat every 15 s: a minute of silence means a dead peer.
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: 60)
        request.setValue("text/event-stream", forHTTPHeaderField: "Accept")
        request.setValue("no-cache", forHTTPHeaderField: "Cache-Control")
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        return LiveStream(request: request, server: baseURL.absoluteString)
    }
}
