import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import SensorCore

/// Talks to a running daemon's query routes for the CLI. Failures become exit status 1
/// with a one-line reason (server unreachable, error answer, unreadable body).
struct DaemonClient {
    let baseURL: URL
    let token: String?

    /// The client for the `--server` and `--token` options: the token defaults to
    /// `$SENSORHUB_HTTP_TOKEN`. Throws a usage error for anything but an http(s) URL.
    init(server: String, token: String?) throws {
        guard let url = URL(string: server), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw ValidationError("invalid --server \"\(server)\": expected a URL like http://127.0.0.1:8080")
        }
        baseURL = url
        self.token = token ?? ProcessInfo.processInfo.environment["SENSORHUB_HTTP_TOKEN"]
    }

    func aggregates(device: String, metric: String, window: String, step: String?, from: String?, to: String?) async throws -> [AggregateRecord] {
        var items = [
            URLQueryItem(name: "device", value: device), URLQueryItem(name: "metric", value: metric),
            URLQueryItem(name: "window", value: window),
        ]
        if let step { items.append(URLQueryItem(name: "step", value: step)) }
        if let from { items.append(URLQueryItem(name: "from", value: from)) }
        if let to { items.append(URLQueryItem(name: "to", value: to)) }
        return try await get("v1/aggregates", query: items)
    }

    func devices() async throws -> [DeviceRecord] {
        try await get("v1/devices", query: [])
    }

    /// A request to `path` with `query`, carrying the token in `Authorization` (never in
    /// the URL, which access logs keep).
    func request(_ path: String, query: [URLQueryItem], timeout: TimeInterval) throws -> URLRequest {
        var components = URLComponents(url: baseURL.appendingPathComponent(path), resolvingAgainstBaseURL: false)
        if !query.isEmpty { components?.queryItems = query }
        guard let url = components?.url else { throw CommandFailure.usage("invalid --server \"\(baseURL)\"") }
        var request = URLRequest(url: url, timeoutInterval: timeout)
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        return request
    }

    /// The reason an error answer gives: its JSON `error`, else the start of its body.
    static func errorMessage(from body: Data) -> String {
        (try? JSONDecoder().decode(ErrorBody.self, from: body))?.error
            ?? String(decoding: body.prefix(200), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func get<T: Decodable>(_ path: String, query: [URLQueryItem]) async throws -> T {
        let request = try request(path, query: query, timeout: 30)
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw CommandFailure.fail("cannot reach \(baseURL.absoluteString): \(error.localizedDescription)")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 200 else {
            let message = Self.errorMessage(from: data)
            // A 400 means the server rejected our arguments: that is a usage error.
            if status == 400 { throw CommandFailure.usage(message) }
            throw CommandFailure.fail("\(baseURL.absoluteString) answered \(status): \(message)")
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw CommandFailure.fail("unreadable answer from \(baseURL.absoluteString): \(error)")
        }
    }

    private struct ErrorBody: Decodable {
        let error: String
    }
}
