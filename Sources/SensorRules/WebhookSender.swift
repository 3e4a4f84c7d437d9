internal import AsyncHTTPClient
internal import SensorCore
internal import NIOCore
internal import NIOHTTP1

/// One webhook POST through async-http-client's shared client (kept-alive connections
/// per host): the alert's JSON object as the body, a 2xx as the only success. A target
/// that refuses connections fails the try only at `timeout`: the client keeps trying to
/// connect until then.
struct WebhookSender: Sendable {
    let timeout: Duration

    /// Nil when the target answered 2xx; otherwise why not (status, or the error).
    func post(_ body: String, to url: String) async -> String? {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "sensorhub")
        request.body = .bytes(ByteBuffer(string: body))
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .nanoseconds(timeout.nanoseconds))
            // Drain (and bound) the answer so the connection can be reused.
            _ = try? await response.body.collect(upTo: 64 << 10)
            return (200..<300).contains(response.status.code) ? nil : "HTTP \(response.status.code)"
        } catch {
            return "\(error)"
        }
    }
}
