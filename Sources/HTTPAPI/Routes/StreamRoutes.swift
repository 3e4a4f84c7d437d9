internal import Hummingbird
internal import HummingbirdWebSocket
internal import NIOCore
internal import SensorPipeline
internal import ServiceLifecycle

/// `GET /v1/stream` (Server-Sent Events) and `GET /v1/ws` (WebSocket): every flush's
/// updated buckets as contract rows, and alert transitions, filtered by ``LiveQuery``.
///
/// Each connection is a ``LiveSubscription`` with a bounded buffer, so a slow client only
/// loses its own oldest updates (it gets a `lagged` event with the count) and never slows
/// ingest. A connection ends when the client goes away (the subscription is removed at
/// once) or on graceful shutdown.
struct StreamRoutes: Sendable {
    let pipeline: Pipeline
    /// Time between two keep-alives on an idle connection (proxies and clients time out).
    let heartbeatInterval: Duration

    /// SSE frames: a row as a default event, `event: alert` (a rule fired or resolved),
    /// `event: lagged`, and comment heartbeats.
    func registerServerSentEvents<Context: RequestContext>(on group: RouterGroup<Context>) {
        group.get("stream") { request, _ -> Response in
            // Validated before the 200 goes out: afterwards errors can only end the stream.
            let filter = try LiveQuery.filter(request.uri.queryParameters, configured: pipeline.configuration.resolutions)
            let subscription = try Self.subscribe(pipeline.live, filter)
            let interval = heartbeatInterval
            return Response(
                status: .ok,
                headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                body: ResponseBody { writer in
                    let heartbeats = Task { await Self.beat(subscription, every: interval) }
                    defer {
                        heartbeats.cancel()
                        subscription.close()
                    }
                    let events = EventStreamWriter(writer)
                    // A client that disconnects cancels this at once (not at the next write);
                    // so does shutdown, which must not wait for a client that stopped reading.
                    try await request.body.consumeWithCancellationOnInboundClose { _ in
                        try await cancelWhenGracefulShutdown {
                            try await events.write("retry: 3000\n: connected\n\n")
                            for await event in subscription {
                                try await events.write(Self.frame(event))
                            }
                            // Cancelled while waiting for an event: end without the closing
                            // chunk, whose write could wait forever on a client that stopped
                            // reading (the connection is closed instead).
                            try Task.checkCancellation()
                        }
                    }
                    try await writer.finish(nil)
                })
        }
    }

    /// `GET /v1/ws` without an upgrade (a plain HTTP client): 426 naming what is needed.
    /// Behind the token like every `/v1` route, so a missing token is a 401 here.
    func registerUpgradeRequired<Context: RequestContext>(on group: RouterGroup<Context>) {
        group.get("ws") { _, _ -> Response in
            var error = APIError(.upgradeRequired, "/v1/ws is a WebSocket: send a GET with Upgrade: websocket")
            error.headers[.upgrade] = "websocket"
            throw error
        }
    }

    /// WebSocket text frames: a row each, or `{"event":"lagged","dropped":N}`. A refused
    /// upgrade (bad filter) is answered 400 by hummingbird-websocket, which cannot send
    /// another status there; the token was checked before (``WebSocketTokenGate``).
    /// On shutdown hummingbird-websocket sends a close frame and drops a client that does
    /// not answer within its close timeout (``webSocketConfiguration``).
    func registerWebSocket(on group: RouterGroup<BasicWebSocketRequestContext>) {
        let configured = pipeline.configuration.resolutions
        group.ws("ws") { request, _ in
            (try? LiveQuery.filter(request.uri.queryParameters, configured: configured)) == nil ? .dontUpgrade : .upgrade([:])
        } onUpgrade: { inbound, outbound, context in
            // Parsed again: the upgrade check above let only valid filters through.
            let filter = try LiveQuery.filter(context.request.uri.queryParameters, configured: configured)
            guard let subscription = pipeline.live.subscribe(filter) else {
                try await outbound.close(.unexpectedServerError, reason: "too many live subscribers, retry later")
                return
            }
            defer { subscription.close() }
            try await withGracefulShutdownHandler {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    // Reading the inbound side processes pings and the close handshake; it
                    // ends when the client closes or the connection drops.
                    group.addTask { for try await _ in inbound {} }
                    group.addTask {
                        for await event in subscription {
                            switch event {
                            case .bucket(let bucket): try await outbound.write(.text(LiveQuery.rowJSON(bucket)))
                            case .lagged(let dropped): try await outbound.write(.text("{\"event\":\"lagged\",\"dropped\":\(dropped)}"))
                            case .alert(let alert): try await outbound.write(.text("{\"event\":\"alert\",\"alert\":\(alert.json)}"))
                            case .heartbeat: break
                            }
                        }
                    }
                    try await group.next()
                    group.cancelAll()
                }
            } onGracefulShutdown: {
                subscription.close()
            }
        }
    }

    /// Frames and close timeout of `/v1/ws`: the close handshake at shutdown must end well
    /// within `pipeline.shutdown_deadline`.
    static let webSocketConfiguration = WebSocketServerConfiguration(closeTimeout: .seconds(3))

    /// A subscription, or 503 when the feed has its maximum of subscribers.
    static func subscribe(_ live: LiveFeed, _ filter: LiveFilter) throws -> LiveSubscription {
        guard let subscription = live.subscribe(filter) else {
            var error = APIError(.serviceUnavailable, "too many live subscribers (\(live.maxSubscribers)), retry later")
            error.headers[.retryAfter] = "5"
            throw error
        }
        return subscription
    }

    static func frame(_ event: LiveEvent) -> String {
        switch event {
        case .bucket(let bucket): "data: \(LiveQuery.rowJSON(bucket))\n\n"
        case .lagged(let dropped): "event: lagged\ndata: {\"dropped\":\(dropped)}\n\n"
        case .alert(let alert): "event: alert\ndata: \(alert.json)\n\n"
        case .heartbeat: ": keep-alive\n\n"
        }
    }

    private static func beat(_ subscription: LiveSubscription, every interval: Duration) async {
        while (try? await Task.sleep(for: interval)) != nil {
            subscription.heartbeat()
        }
    }
}

/// The SSE body writer shared with the task that ``cancelWhenGracefulShutdown`` runs the
/// stream in (its operation must be `@Sendable`). Used by one task at a time: that
/// operation while it runs, then the route, which only finishes the original writer.
private final class EventStreamWriter: @unchecked Sendable {
    private var writer: any ResponseBodyWriter

    init(_ writer: any ResponseBodyWriter) {
        self.writer = writer
    }

    func write(_ text: String) async throws {
        try await writer.write(ByteBuffer(string: text))
    }
}
