/// What the HTTP surface needs to know from the daemon's settings.
public struct APIConfiguration: Sendable {
    public var host: String
    /// 0 picks a free port; the bound one is reported through `onListening`.
    public var port: Int
    /// Bearer token required on `/v1/*` and `/metrics`; nil leaves them open.
    public var token: String?
    /// Largest accepted ingest body, in bytes (413 above).
    public var maxBodyBytes: Int
    /// How long an ingest request may wait for queue room before 503.
    public var queueWait: Duration
    /// Time between two keep-alive comments on an idle `/v1/stream` connection.
    public var heartbeatInterval: Duration
    /// Most open connections; further ones wait to be accepted (`http.max_connections`).
    public var maxConnections: Int
    /// A connection idle this long, or stalled this long halfway through a request, is
    /// closed (`http.idle_timeout`).
    public var idleTimeout: Duration
    /// Most rows one `/v1/aggregates` answer may hold (`limits.max_query_rows`).
    public var queryRowLimit: Int

    public init(host: String, port: Int, token: String?, maxBodyBytes: Int, queueWait: Duration,
                heartbeatInterval: Duration = .seconds(15), maxConnections: Int = 1_024, idleTimeout: Duration = .seconds(60),
                queryRowLimit: Int = 1_000_000) {
        self.heartbeatInterval = heartbeatInterval
        self.maxConnections = maxConnections
        self.idleTimeout = idleTimeout
        self.queryRowLimit = queryRowLimit
        self.host = host
        self.port = port
        self.token = token
        self.maxBodyBytes = maxBodyBytes
        self.queueWait = queueWait
    }
}
