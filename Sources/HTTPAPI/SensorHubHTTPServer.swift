public import Hummingbird
public import Logging
public import Prometheus
public import SensorPipeline
public import SensorStore
internal import NIOCore
internal import HummingbirdWebSocket
internal import HummingbirdCore
internal import SensorCore

/// Builds the daemon's HTTP application: ingest, queries, live streams (SSE and
/// WebSocket), health, metrics and the dashboard, with the tokens' access rules in front
/// of `/v1/*` and `/metrics` when tokens are configured, over TLS when a certificate is.
public enum SensorHubHTTPServer {
    /// - Parameter mqttState: the MQTT connection state for `/healthz`, nil without MQTT.
    /// - Parameter onListening: called once with the bound host and port (port 0 in the
    ///   configuration picks a free one).
    public static func makeApplication(
        configuration: APIConfiguration,
        pipeline: Pipeline,
        store: any AggregateReader,
        registry: PrometheusCollectorRegistry,
        logger: Logger,
        mqttState: @escaping @Sendable () -> String? = { nil },
        onListening: @escaping @Sendable (_ host: String, _ port: Int) -> Void
    ) -> some ApplicationProtocol {
        typealias Context = SensorHubRequestContext
        let router = Router(context: Context.self)
        let operations = OperationsRoutes<Context>(pipeline: pipeline, registry: registry, mqttState: mqttState)
        operations.registerHealth(on: router)
        DashboardRoutes<Context>().register(on: router)
        let streams = StreamRoutes(pipeline: pipeline, heartbeatInterval: configuration.heartbeatInterval)

        let ingest = pipeline.entry(for: .http)
        let protected = router.group()
        let rejected: @Sendable (RejectReason) -> Void = { ingest.recordRejected($0) }
        if !configuration.access.isOpen {
            protected.add(middleware: AccessMiddleware(policy: configuration.access, onRejected: rejected))
        }
        // Upgrades reach this router only with a token that may read: `server(…)` checks it first.
        let webSocketRouter = Router(context: BasicWebSocketRequestContext.self)
        streams.registerWebSocket(on: webSocketRouter.group("v1"))
        operations.registerMetrics(on: protected)
        let v1 = protected.group("v1")
        IngestRoutes<Context>(
            ingest: ingest, maxBodyBytes: configuration.maxBodyBytes, queueWait: configuration.queueWait
        ).register(on: v1)
        QueryRoutes<Context>(store: store, rowLimit: configuration.queryRowLimit, streams: StreamSlots(limit: 2), logger: logger).register(on: v1)
        AlertRoutes<Context>(store: store).register(on: v1)
        streams.registerServerSentEvents(on: v1)
        streams.registerUpgradeRequired(on: v1)

        return Application(
            router: router,
            server: Self.server(
                webSocketRouter: webSocketRouter, access: configuration.access, certificate: configuration.certificate,
                idleTimeout: configuration.idleTimeout, onRejected: rejected),
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

    /// HTTP/1.1 with WebSocket upgrades, over TLS with a certificate; with tokens, upgrades
    /// without one that may read get 401 or 403 (``WebSocketTokenGate``) before
    /// hummingbird-websocket sees them. A connection that has not sent a whole request head
    /// within `idleTimeout` is closed (``RequestHeadDeadline``); after that, one with no
    /// request in progress, or stalled halfway through sending one, is closed after
    /// `idleTimeout` too, but one whose response is still being written (a live stream) is
    /// not.
    private static func server(
        webSocketRouter: Router<BasicWebSocketRequestContext>, access: AccessPolicy, certificate: ServerCertificate?,
        idleTimeout: Duration, onRejected: @escaping @Sendable (RejectReason) -> Void
    ) -> HTTPServerBuilder {
        let timeout = TimeAmount.nanoseconds(idleTimeout.nanoseconds)
        let configuration = HTTP1WebSocketUpgradeChannel.Configuration(
            http1: HTTP1Channel.Configuration(idleTimeout: timeout), ws: StreamRoutes.webSocketConfiguration)
        let webSocketResponder = webSocketRouter.buildResponder()
        return HTTPServerBuilder { responder in
            let http = FirstRequestHandlers(
                inner: HTTP1WebSocketUpgradeChannel(responder: responder, webSocketResponder: webSocketResponder, configuration: configuration),
                handlers: {
                    let deadline = RequestHeadDeadline.Handler(timeout: timeout)
                    guard !access.isOpen else { return [deadline] }
                    return [deadline, WebSocketTokenGate.Handler(policy: access, onRejected: onRejected)]
                })
            guard let certificate else { return http }
            return ReloadableTLSChannel(inner: http, certificate: certificate)
        }
    }
}

extension IngestTransport {
    /// `POST /v1/readings`.
    static let http = IngestTransport("http")
}
