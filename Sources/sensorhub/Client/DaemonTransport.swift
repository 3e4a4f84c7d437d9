import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization

/// How the CLI reaches a daemon over HTTP or HTTPS (async-http-client): the base URL, the
/// bearer token, and which certificates it trusts (`--cacert FILE` / `$SENSORHUB_CACERT`,
/// else the system's store). A certificate that cannot be verified fails the request with
/// the reason, never silently.
struct DaemonTransport: Sendable {
    let baseURL: URL
    let token: String?
    private let client: HTTPClient

    /// - Throws: a usage error for anything but an http(s) URL or a CA file that is not there.
    init(server: String, token: String?, cacert: String?) throws {
        guard let url = URL(string: server), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw CommandFailure.usage("invalid --server \"\(server)\": expected a URL like http://127.0.0.1:8080")
        }
        baseURL = url
        let environment = ProcessInfo.processInfo.environment
        self.token = token ?? environment["SENSORHUB_TOKEN"] ?? environment["SENSORHUB_HTTP_TOKEN"]
        let trusted = cacert ?? environment["SENSORHUB_CACERT"]
        if let trusted, !FileManager.default.isReadableFile(atPath: trusted) {
            throw CommandFailure.usage("--cacert \(trusted): no such readable file")
        }
        client = Self.client(trusting: trusted)
    }

    /// One client per trust setting for the life of the process (a command uses one):
    /// kept in a static, so it is never deinitialised without its shutdown.
    private static let clients = Mutex<[String: HTTPClient]>([:])

    private static func client(trusting caFile: String?) -> HTTPClient {
        clients.withLock { clients in
            if let existing = clients[caFile ?? ""] { return existing }
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.minimumTLSVersion = .tlsv12
            if let caFile { tls.trustRoots = .file(caFile) }
            // read: the longest silence within an answer (a live stream's heartbeats come
            // every 15 s); whole requests get their own deadline.
            var configuration = HTTPClient.Configuration(
                tlsConfiguration: tls, timeout: .init(connect: .seconds(10), read: .seconds(60)))
            // A refused connection or certificate is reported at once, not retried until
            // the connect timeout (tail retries on its own, with its backoff).
            configuration.connectionPool.retryConnectionEstablishment = false
            let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
            clients[caFile ?? ""] = client
            return client
        }
    }

    /// A request to `path` with `query`, carrying the token in `Authorization` (never in
    /// the URL, which access logs keep).
    func request(_ path: String, query: [URLQueryItem] = [], method: HTTPMethod = .GET) throws -> HTTPClientRequest {
        var components = URLComponents(url: baseURL.appendingPathComponent(path), resolvingAgainstBaseURL: false)
        if !query.isEmpty { components?.queryItems = query }
        guard let url = components?.url else { throw CommandFailure.usage("invalid --server \"\(baseURL)\"") }
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        return request
    }

    /// A complete answer: status, headers and up to `limit` bytes of body.
    struct Answer {
        let status: Int
        let headers: HTTPHeaders
        let body: Data
    }

    /// Sends `request` and reads the whole answer within `timeout`.
    /// - Throws: ``CommandFailure`` (exit 1) naming the server and why it cannot be reached.
    func send(_ request: HTTPClientRequest, timeout: Duration = .seconds(30), limit: Int = 256 << 20) async throws -> Answer {
        do {
            return try await exchange(request, timeout: timeout, limit: limit)
        } catch {
            throw CommandFailure.fail("cannot reach \(baseURL.absoluteString): \(Self.describe(error))")
        }
    }

    /// ``send(_:timeout:limit:)`` with the transport's own errors, for a caller that
    /// retries some of them.
    func exchange(_ request: HTTPClientRequest, timeout: Duration, limit: Int = 1 << 20) async throws -> Answer {
        let response = try await client.execute(request, timeout: .nanoseconds(timeout.nanoseconds))
        let body = try await response.body.collect(upTo: limit)
        return Answer(status: Int(response.status.code), headers: response.headers, body: Data(buffer: body))
    }

    /// Starts `request` and returns the answer's head; its body arrives as it comes, with
    /// at most the client's read timeout (60 s) of silence.
    func open(_ request: HTTPClientRequest) async throws -> HTTPClientResponse {
        try await client.execute(request, timeout: .hours(24 * 365))
    }

    /// A transport error in words; for TLS, what is wrong with the certificate.
    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as NIOSSLExtraError where error == .failedToValidateHostname:
            return "TLS: the server's certificate is not valid for this host name (\(error))"
        case let error as NIOSSLError:
            if case .handshakeFailed = error, "\(error)".contains("CERTIFICATE_VERIFY_FAILED") {
                return "TLS: the server's certificate could not be verified: it is not signed by a trusted CA "
                    + "(give the daemon's CA with --cacert FILE), or it has expired or is not valid yet"
            }
            return "TLS: \(error)"
        case let error as HTTPClientError:
            switch error {
            case .connectTimeout: return "no connection within 10 s"
            case .readTimeout: return "no data for 60 s, not even a heartbeat"
            case .deadlineExceeded: return "no complete answer in time"
            case .remoteConnectionClosed: return "the connection was closed"
            default: return "\(error)"
            }
        default:
            let text = "\(error)"
            if text.contains("connection reset") || text.contains("Connection refused") || text.contains("connectionRefused") {
                return "connection refused"
            }
            return text
        }
    }
}
