/// What the HTTP surface needs to know from the daemon's settings.
public struct APIConfiguration: Sendable {
    /// Who may use `/v1/*` and `/metrics` (no token: everyone).
    public var access: AccessPolicy
    /// The HTTPS certificate; nil serves plain HTTP.
    public var certificate: ServerCertificate?
    public var host: String
    /// 0 picks a free port; the bound one is reported through `onListening`.
    public var port: Int
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

    public init(host: String, port: Int, access: AccessPolicy, certificate: ServerCertificate? = nil, maxBodyBytes: Int, queueWait: Duration,
                heartbeatInterval: Duration = .seconds(15), maxConnections: Int = 1_024, idleTimeout: Duration = .seconds(60),
                queryRowLimit: Int = 1_000_000) {
        self.heartbeatInterval = heartbeatInterval
        self.maxConnections = maxConnections
        self.idleTimeout = idleTimeout
        self.queryRowLimit = queryRowLimit
        self.host = host
        self.port = port
        self.access = access
        self.certificate = certificate
        self.maxBodyBytes = maxBodyBytes
        self.queueWait = queueWait
    }
}
