import ArgumentParser
import Foundation
import SensorCore

/// Talks to a running daemon's query routes for the CLI. Failures become exit status 1
/// with a one-line reason (server unreachable, a certificate that cannot be verified, an
/// error answer, an unreadable body).
struct DaemonClient {
    let transport: DaemonTransport

    var baseURL: URL { transport.baseURL }

    /// The client for the `--server`, `--token` and `--cacert` options: the token defaults
    /// to `$SENSORHUB_TOKEN` (or the older `$SENSORHUB_HTTP_TOKEN`), the CA file to
    /// `$SENSORHUB_CACERT`. Throws a usage error for anything but an http(s) URL.
    init(server: String, token: String?, cacert: String? = nil) throws {
        transport = try DaemonTransport(server: server, token: token, cacert: cacert)
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

    /// `GET /v1/alerts` with the given filters (each a glob, or `firing`/`resolved`).
    func alerts(rule: String?, device: String?, metric: String?, state: String?) async throws -> [AlertRecord] {
        let filters = [("rule", rule), ("device", device), ("metric", metric), ("state", state)]
        return try await get("v1/alerts", query: filters.compactMap { name, value in value.map { URLQueryItem(name: name, value: $0) } })
    }

    /// The reason an error answer gives: its JSON `error`, else the start of its body.
    static func errorMessage(from body: Data) -> String {
        (try? JSONDecoder().decode(ErrorBody.self, from: body))?.error
            ?? String(decoding: body.prefix(200), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func get<T: Decodable>(_ path: String, query: [URLQueryItem]) async throws -> T {
        let answer = try await transport.send(try transport.request(path, query: query))
        guard answer.status == 200 else {
            let message = Self.errorMessage(from: answer.body)
            // A 400 means the server rejected our arguments: that is a usage error.
            if answer.status == 400 { throw CommandFailure.usage(message) }
            throw CommandFailure.fail("\(baseURL.absoluteString) answered \(answer.status): \(message)")
        }
        do {
            return try JSONDecoder().decode(T.self, from: answer.body)
        } catch {
            throw CommandFailure.fail("unreadable answer from \(baseURL.absoluteString): \(error)")
        }
    }

    private struct ErrorBody: Decodable {
        let error: String
    }
}
