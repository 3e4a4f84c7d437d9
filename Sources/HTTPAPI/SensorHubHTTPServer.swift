public import Hummingbird
public import Logging
public import Prometheus
public import SensorPipeline
public import SensorStore
internal import NIOCore
internal import HummingbirdWebSocket
internal import HummingbirdCore

/// Builds the daemon's HTTP application: ingest, queries, live streams (SSE and
/// WebSocket), health, metrics and the dashboard, with the bearer token in front of
/// `/v1/*` and `/metrics` when one is configured.
public enum SensorHubHTTPServer {
    /// - Parameter mqttState: the MQTT connection state for `/healthz`, nil without MQTT.
    /// - Parameter onListening: called once with the bound host and port (port 0 in the
    ///   configuration picks a free one).
    public static func makeApplication(
        configuration: APIConfiguration,
        pipeline: Pipeline,
        store: SensorStore,
        registry: PrometheusCollectorRegistry,
        logger: Logger,
        mqttState: @escaping @Sendable () -> String? = { nil },
        onListening: @escaping @Sendable (_ host: String, _ port: Int) -> Void
    ) -> some ApplicationProtocol {
        let router = Router(context: BasicRequestContext.self)
        let operations = OperationsRoutes<BasicRequestContext>(pipeline: pipeline, registry: registry, mqttState: mqttState)
        operations.registerHealth(on: router)
        DashboardRoutes<BasicRequestContext>().register(on: router)
        let streams = StreamRoutes(pipeline: pipeline, heartbeatInterval: configuration.heartbeatInterval)

        let ingest = pipeline.entry(for: .http)
        let protected = router.group()
        let rejected: @Sendable () -> Void = { ingest.recordRejected(.unauthorized) }
        if let token = configuration.token {
            protected.add(middleware: BearerTokenMiddleware(token: token, onRejected: rejected))
        }
        // Upgrades reach this router only with the token: `server(…)` checks it first.
        let webSocketRouter = Router(context: BasicWebSocketRequestContext.self)
        streams.registerWebSocket(on: webSocketRouter.group("v1"))
        operations.registerMetrics(on: protected)
        let v1 = protected.group("v1")
        IngestRoutes<BasicRequestContext>(
            ingest: ingest, maxBodyBytes: configuration.maxBodyBytes, queueWait: configuration.queueWait
        ).register(on: v1)
        QueryRoutes<BasicRequestContext>(store: store, rowLimit: configuration.queryRowLimit).register(on: v1)
        streams.registerServerSentEvents(on: v1)
        streams.registerUpgradeRequired(on: v1)

        return Application(
            router: router,
            server: Self.server(
                webSocketRouter: webSocketRouter, token: configuration.token, idleTimeout: configuration.idleTimeout,
                onRejected: rejected),
            // Past the connection limit, new connections wait in the listen backlog until
            // one closes (and the kernel refuses them once the backlog is full too).
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: "sensorhub",
                availableConnectionsDelegate: .maximum(configuration.maxConnections, logger: logger)),
            onServerRunning: { channel in
                let address = channel.localAddress
                onListening(address?.ipAddress ?? configuration.host, address?.port ?? configuration.port)
            },
            logger: logger)
    }

    /// HTTP/1.1 with WebSocket upgrades; with a token, upgrades without it get 401
    /// (``WebSocketTokenGate``) before hummingbird-websocket sees them. A connection that
    /// has not sent a whole request head within `idleTimeout` is closed
    /// (``RequestHeadDeadline``); after that, one with no request in progress, or stalled
    /// halfway through sending one, is closed after `idleTimeout` too, but one whose
    /// response is still being written (a live stream) is not.
    private static func server(
        webSocketRouter: Router<BasicWebSocketRequestContext>, token: String?, idleTimeout: Duration,
        onRejected: @escaping @Sendable () -> Void
    ) -> HTTPServerBuilder {
        let timeout = TimeAmount.nanoseconds(idleTimeout.nanoseconds)
        let configuration = HTTP1WebSocketUpgradeChannel.Configuration(
            http1: HTTP1Channel.Configuration(idleTimeout: timeout), ws: StreamRoutes.webSocketConfiguration)
        let webSocketResponder = webSocketRouter.buildResponder()
        return HTTPServerBuilder { responder in
            FirstRequestHandlers(
                inner: HTTP1WebSocketUpgradeChannel(responder: responder, webSocketResponder: webSocketResponder, configuration: configuration),
                handlers: {
                    let deadline = RequestHeadDeadline.Handler(timeout: timeout)
                    guard let token else { return [deadline] }
                    return [deadline, WebSocketTokenGate.Handler(token: token, onRejected: onRejected)]
                })
        }
    }
}

extension IngestTransport {
    /// `POST /v1/readings`.
    static let http = IngestTransport("http")
}

extension Duration {
    fileprivate var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
