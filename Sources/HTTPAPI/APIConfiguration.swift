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

    public init(host: String, port: Int, token: String?, maxBodyBytes: Int, queueWait: Duration,
                heartbeatInterval: Duration = .seconds(15)) {
        self.heartbeatInterval = heartbeatInterval
        self.host = host
        self.port = port
        self.token = token
        self.maxBodyBytes = maxBodyBytes
        self.queueWait = queueWait
    }
}
