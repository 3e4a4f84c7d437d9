internal import Foundation
public import SensorCore

/// The daemon's effective configuration: every setting, typed and validated.
///
/// Built by ``load(file:environment:flags:)`` from, in order of precedence, command-line
/// flags, `SENSORHUB_*` environment variables, the YAML config file and the defaults
/// below (``defaults``). A `Settings` value is immutable input for the other modules; the
/// fields are `var` so tests and tools can start from ``defaults`` and change one thing.
public struct Settings: Sendable, Equatable {
    /// `store.*`: the database and how aggregates are kept.
    public struct Store: Sendable, Equatable {
        /// `store.path` (flag `--db`): the SQLite database file. Default `./sensorhub.db`.
        public var path: String
        /// `store.url` (flag `--db` with a `postgres://` URL): keep the aggregates in this
        /// PostgreSQL database instead of the SQLite file (CONTRACT §8). Default none. A
        /// secret: it may hold a password.
        public var url: String?
        /// `store.flush_interval`: time between two flushes of open buckets; an acknowledged
        /// reading is visible to queries within one interval. Default 1 s, always > 0.
        public var flushInterval: Duration
        /// `store.resolutions`: the window lengths every reading is bucketed at, finest
        /// first, no duplicates, never empty. Default `10s,1m,1h`.
        public var resolutions: [Resolution]
        /// `store.retention`: how long each resolution's buckets are kept, as
        /// `resolution=duration` items (`10s=7d,1m=90d`). A resolution not listed keeps
        /// ``Resolution/defaultRetention``.
        public var retention: [Resolution: Duration]
        /// `store.retention_interval`: time between two retention passes (the first runs
        /// 5 s after start). Default 1m.
        public var retentionInterval: Duration

        /// The retention in effect for every configured resolution.
        public var effectiveRetention: [Resolution: Duration] {
            Dictionary(uniqueKeysWithValues: resolutions.map { ($0, retention[$0] ?? $0.defaultRetention) })
        }
    }

    /// `http.*`: the HTTP API.
    public struct HTTP: Sendable, Equatable {
        /// `http.host` (flag `--http-host`): address to bind. Default `127.0.0.1`.
        public var host: String
        /// `http.port` (flag `--http-port`): 0–65535, 0 asks the OS for a free port.
        /// Default 8080.
        public var port: Int
        /// `http.token`: bearer token required on `/v1/*` and `/metrics`; nil (the default)
        /// leaves them open. A secret: masked in ``Settings/redactedDescription``.
        public var token: String?
        /// `http.max_body`: largest accepted request body in bytes (413 above). Default 8 MiB.
        public var maxBodyBytes: Int
        /// `http.queue_wait`: how long an HTTP ingest may wait for queue room before 503.
        /// Default 250 ms; 0 answers 503 at once when there is no room now (the queue is
        /// full, or producers wait before it in the queue's line).
        public var queueWait: Duration
        /// `http.stream_buffer`: bucket updates buffered per live subscriber (`/v1/stream`,
        /// `/v1/ws`); past it the oldest are dropped and the subscriber is sent a `lagged`
        /// event with the count. 1–1,000,000. Default 4096.
        public var streamBuffer: Int
        /// `http.max_streams`: most live subscribers at once (SSE, WebSocket, dashboards);
        /// past it `/v1/stream` answers 503. 1–10,000. Default 64.
        public var maxStreams: Int
        /// `http.max_connections`: most open HTTP connections; further ones wait in the
        /// listen backlog until one closes (the kernel refuses them once that is full too).
        /// 1–1,000,000. Default 1024.
        public var maxConnections: Int
        /// `http.idle_timeout`: a connection with nothing to read or write for this long is
        /// closed, also one stalled halfway through sending a request. Live streams keep
        /// theirs open with heartbeats. At least 1 s. Default 60s.
        public var idleTimeout: Duration
        /// `http.answer_unflushed`: whether the daemon's answers (`/v1/aggregates`,
        /// `/v1/devices`) include readings it aggregated and has not flushed yet. Default
        /// true; false answers as of the last flush, as `query --db` reads the file.
        public var answerUnflushed: Bool
        /// `http.tls.cert` and `http.tls.key` (flags `--tls-cert`, `--tls-key`): PEM files
        /// that make the HTTP port speak TLS only (1.2 and later), re-read on SIGHUP. Both or
        /// neither; nil (the default) serves plain HTTP.
        public var tls: TLSFiles?
        /// `http.tokens` (config file only): scoped bearer tokens, next to or instead of
        /// `http.token` (which stays and means `admin`). Default none.
        public var tokens: [TokenSpec]
    }

    /// A certificate chain and its private key, PEM files.
    public struct TLSFiles: Sendable, Equatable {
        public var certificate: String
        public var privateKey: String

        public init(certificate: String, privateKey: String) {
            self.certificate = certificate
            self.privateKey = privateKey
        }
    }

    /// `mqtt.*`: the broker connection.
    public struct MQTT: Sendable, Equatable {
        /// `mqtt.url` (flag `--mqtt-url`). Default `mqtt://127.0.0.1:1883`.
        public var url: MQTTURL
        /// `mqtt.enabled`: whether to connect to the broker at all; false runs HTTP ingest
        /// only (the other `mqtt.*` keys are still validated). `true` or `false` (also
        /// `yes`/`no`, `1`/`0`). Default true.
        public var enabled: Bool
        /// `mqtt.topics`: the topic filters to subscribe to, in the order given; at least one,
        /// no duplicates, each a valid MQTT filter (non-empty, no NUL, at most 65 535 bytes,
        /// `#` alone in the last level, `+` alone in its level). Comma-separated, or a YAML
        /// list in the file (the only way to give a filter containing a comma).
        /// Default `sensors/#`.
        public var topics: [String]
        /// `mqtt.qos`: the maximum QoS requested for every subscription, 0–2. Default 1.
        public var qos: Int
        /// `mqtt.client_id`: the client identifier sent in CONNECT, 1–128 characters from
        /// `A-Z a-z 0-9 . _ -` (MQTT 3.1.1 brokers need only accept 23 letters and digits).
        /// Default `sensorhub-` + this host's name (`ProcessInfo.hostName`, other characters
        /// replaced by `-`): stable across restarts, so the daemon finds its session again.
        public var clientID: String
        /// `mqtt.shared_group`: subscribe to each filter as `$share/NAME/<filter>`, so the
        /// broker hands each message to one daemon of the group (several daemons, one
        /// database: CONTRACT §8). Default none: every message to this daemon.
        public var sharedGroup: String?
        /// `mqtt.protocol`: `5` or `3.1.1` (also written `311`). Default `5`.
        public var protocolVersion: MQTTProtocol
        /// `mqtt.keepalive`: the longest silence before client and broker ping each other,
        /// whole seconds from 5 s to 65 535 s (CONNECT carries a 16-bit count of seconds).
        /// Default 60 s.
        public var keepalive: Duration
        /// `mqtt.reconnect_min`: the first delay before reconnecting after the connection
        /// is lost or refused; later delays grow up to `mqtt.reconnect_max`. At least 10 ms.
        /// Default 500 ms.
        public var reconnectMin: Duration
        /// `mqtt.reconnect_max`: the longest delay between reconnection attempts, at least
        /// `mqtt.reconnect_min`. Default 30 s.
        public var reconnectMax: Duration
        /// `mqtt.receive_maximum`: MQTT 5 Receive Maximum, how many QoS 1 and 2 messages the
        /// broker may send before we acknowledge them, 1–65 535. Default 100.
        public var receiveMaximum: Int
        /// `mqtt.session_expiry`: MQTT 5 Session Expiry Interval, how long the broker keeps
        /// our session (subscriptions and queued QoS 1 and 2 messages) after we disconnect;
        /// whole seconds from 0 s (the session ends with the connection) to 4 294 967 295 s
        /// (never expires). Default 1 day.
        public var sessionExpiry: Duration
        /// `mqtt.max_payload`: largest message payload taken; larger ones are refused
        /// (`too_large`) and an MQTT 5 broker is told not to send them (Maximum Packet
        /// Size). 1 byte to 256 MiB. Default 1 MiB.
        public var maxPayloadBytes: Int
        /// `mqtt.username`: the user name to log in with, when `mqtt.url` names none.
        public var username: String?
        /// `mqtt.password_file`: a file holding the password (read at start; the final line
        /// break is not part of it). Needs a user name, from the URL or `mqtt.username`.
        public var passwordFile: String?
        /// `mqtt.tls.ca`: PEM file of the CA that signed the broker's certificate; without
        /// it an `mqtts://` URL trusts the system's CA store. The host name is always
        /// verified. Only with `mqtts://`.
        public var tlsCA: String?
        /// `mqtt.tls.cert` and `mqtt.tls.key`: a client certificate and its key, for brokers
        /// that require one. Both or neither; only with `mqtts://`.
        public var tlsClient: TLSFiles?
    }

    /// `pipeline.*`: ingest sharding and back-pressure.
    public struct Pipeline: Sendable, Equatable {
        /// `pipeline.shards`: number of shards (queue + worker each), 1–1024.
        /// Default: one per four active processors (``defaultShards(processors:)``).
        public var shards: Int
        /// `pipeline.queue_capacity`: bound of each shard's queue in readings, 1–16 777 216.
        /// Default 131 072 (4 MiB of queued readings): room for a batch of the most readings
        /// the default payload limit lets in (100,000) beside others. A batch larger than
        /// this is taken only by an empty queue: it waits in the queue's line (HTTP up to
        /// `http.queue_wait`) until everything queued before it was taken.
        public var queueCapacity: Int
        /// `pipeline.max_pending_buckets`: buckets touched since the last flush that trigger
        /// a flush before the interval is up; bounds memory when backlogs arrive in bursts.
        /// 1 000–100 000 000. Default 1 000 000: until the flush, a window of one or two
        /// readings (most are, between flushes) takes 48 bytes, and
        /// `pipeline.max_pending_bytes` bounds what the stats will hold. An early flush
        /// rewrites every chunk it touches, so with many sparse series a lower bound costs
        /// more than it saves: at 400 000, 100,000 series of four readings each were
        /// flushed three times, and took twice the CPU and 40 MiB more memory.
        public var maxPendingBuckets: Int
        /// `pipeline.max_pending_bytes`: memory those pending buckets may take before a
        /// flush comes early (a bucket whose values are far apart holds up to 32 KiB of
        /// sketch). 1 MiB to 64 GiB. Default 256 MiB.
        public var maxPendingBytes: Int
        /// `pipeline.shutdown_deadline`: how long a graceful shutdown (SIGTERM, SIGINT) may
        /// take to drain the queues and flush before the daemon gives up and exits 1;
        /// whatever was not flushed stays in the journal and is replayed on the next start.
        /// Default 10s.
        public var shutdownDeadline: Duration
        /// `pipeline.max_future_skew`: readings whose event time is further than this ahead
        /// of the daemon's clock are refused (`future_ts`). Default 5m.
        public var maxFutureSkew: Duration

        /// The shards a daemon runs without `pipeline.shards`: one per four active
        /// processors, at least one. A fleet gateway's batch holds series of every shard,
        /// and each shard it touches costs a journal append, a queue hand-off and a worker
        /// woken. On two cores, one shard instead of two ran W3 (HTTP batches of 100) 20%
        /// faster on 13% less server CPU; W2 was alike or a little slower
        /// (Benchmarks/README.md, session 45). More shards buy workers aggregating in
        /// parallel, and one worker here applies about three million readings a second (a
        /// profile's estimate). Only two cores were measured: the one in four for larger
        /// machines is a guess that keeps a worker per few cores feeding it.
        public static func defaultShards(processors: Int) -> Int {
            max(1, processors / 4)
        }
    }

    /// `limits.*`: what one client may make the daemon hold or compute (CONTRACT §4).
    public struct Limits: Sendable, Equatable {
        /// `limits.max_series`: series the daemon holds; a reading that would create one
        /// more is refused (`series_limit`). 1–100,000,000. Default 100,000.
        public var maxSeries: Int
        /// `limits.max_metrics_per_device`: metrics one device may have (`series_limit`).
        /// 1–1,000,000. Default 1,000.
        public var maxMetricsPerDevice: Int
        /// `limits.max_readings_per_payload`: readings one HTTP body or MQTT message may
        /// give (`too_large`, HTTP 413). 1–900,000 (one payload is one journal record,
        /// which replay reads up to 256 MiB). Default 100,000.
        public var maxReadingsPerPayload: Int
        /// `limits.max_query_rows`: a query whose answer could hold more rows is refused
        /// before any work (`too_many_rows`, HTTP 400, CLI exit 64). 1–100,000,000.
        /// Default 1,000,000.
        public var maxQueryRows: Int
    }

    /// `journal.*`: the ingest journal every reading is appended to before it is
    /// acknowledged.
    public struct Journal: Sendable, Equatable {
        /// `journal.directory`: where the segment files go. Default: the database path
        /// followed by `.journal` (`./sensorhub.db.journal`).
        public var directory: String?
        /// `journal.fsync`: `never`, `interval` or `always`. Default `interval`.
        public var fsync: JournalFsync
        /// `journal.fsync_interval`: time between two syncs with `interval`. Default 1s.
        public var fsyncInterval: Duration
        /// `journal.segment_size`: size at which a new segment file is begun. Default 64MiB.
        public var segmentSize: Int
    }

    /// `log.*`: logging.
    public struct Log: Sendable, Equatable {
        /// `log.level`. Default `info`.
        public var level: LogLevel
        /// `log.format`. Default `text`.
        public var format: LogFormat
    }

    /// `alerts.*`: when windows count as closed for rules and forwarding, and how their
    /// actions are delivered (CONTRACT §7).
    public struct Alerts: Sendable, Equatable {
        /// `alerts.lateness`: how long after a window's end its readings may still arrive
        /// before rules judge it and forwarding publishes it; a window is closed by the
        /// first flush at or after its end plus this. 0 to 1 h. Default 5s.
        public var lateness: Duration
        /// `alerts.retry_min`: the first pause before a failed webhook or MQTT delivery is
        /// tried again; later pauses double up to `alerts.retry_max`, with jitter.
        /// At least 10 ms. Default 1s.
        public var retryMin: Duration
        /// `alerts.retry_max`: the longest pause between two tries, at least
        /// `alerts.retry_min`. Default 1m.
        public var retryMax: Duration
        /// `alerts.webhook_timeout`: how long one webhook POST may take before it counts
        /// as failed. At least 100 ms. Default 10s.
        public var webhookTimeout: Duration
        /// `alerts.max_queued`: deliveries (webhook posts, MQTT messages, forwarded rows)
        /// kept in the database while their target is down; past it the oldest are
        /// dropped, logged and counted. 1,000–100,000,000. Default 1,000,000.
        public var maxQueued: Int
        /// `alerts.keep_resolved`: how long `GET /v1/alerts` keeps listing a resolved
        /// alert. At least 1 m. Default 24h.
        public var keepResolved: Duration
    }

    public var store: Store
    public var http: HTTP
    public var mqtt: MQTT
    public var pipeline: Pipeline
    public var limits: Limits
    public var journal: Journal
    public var log: Log
    public var alerts: Alerts
    /// `rules:` (config file only): the alert rules, in file order. Default none.
    public var rules: [AlertRule]
    /// `forward:` (config file only): closed buckets to publish over MQTT. Default none.
    public var forward: ForwardRule?

    /// The journal directory in effect: `journal.directory`, else next to the database.
    public var journalDirectory: String { journal.directory ?? store.path + ".journal" }

    /// The embedded defaults, what ``load(file:environment:flags:)`` returns when no source
    /// sets anything. `pipeline.shards` follows this machine's active processor count
    /// (``Pipeline/defaultShards(processors:)``).
    public static var defaults: Settings {
        Settings(
            store: Store(path: "./sensorhub.db", url: nil, flushInterval: .seconds(1), resolutions: defaultResolutions, retention: [:], retentionInterval: .seconds(60)),
            http: HTTP(
                host: "127.0.0.1", port: 8080, token: nil, maxBodyBytes: 8 << 20, queueWait: .milliseconds(250), streamBuffer: 4_096,
                maxStreams: 64, maxConnections: 1_024, idleTimeout: .seconds(60), answerUnflushed: true, tls: nil, tokens: []),
            mqtt: MQTT(
                url: MQTTURL(host: "127.0.0.1", port: 1883),
                enabled: true,
                topics: ["sensors/#"],
                qos: 1,
                clientID: defaultClientID,
                sharedGroup: nil,
                protocolVersion: .v5,
                keepalive: .seconds(60),
                reconnectMin: .milliseconds(500),
                reconnectMax: .seconds(30),
                receiveMaximum: 100,
                sessionExpiry: .seconds(86_400),
                maxPayloadBytes: 1 << 20,
                username: nil,
                passwordFile: nil,
                tlsCA: nil,
                tlsClient: nil
            ),
            pipeline: Pipeline(shards: Pipeline.defaultShards(processors: ProcessInfo.processInfo.activeProcessorCount), queueCapacity: 131_072, maxPendingBuckets: 1_000_000, maxPendingBytes: 256 << 20, shutdownDeadline: .seconds(10), maxFutureSkew: .seconds(300)),
            limits: Limits(maxSeries: 100_000, maxMetricsPerDevice: 1_000, maxReadingsPerPayload: 100_000, maxQueryRows: 1_000_000),
            journal: Journal(directory: nil, fsync: .interval, fsyncInterval: .seconds(1), segmentSize: 64 << 20),
            log: Log(level: .info, format: .text),
            alerts: Alerts(
                lateness: .seconds(5), retryMin: .seconds(1), retryMax: .seconds(60), webhookTimeout: .seconds(10),
                maxQueued: 1_000_000, keepResolved: .seconds(86_400)),
            rules: [],
            forward: nil
        )
    }

    private static let defaultResolutions: [Resolution] =
        [10, 60, 3_600].compactMap { Resolution(seconds: $0) }

    /// `sensorhub-` + this host's name, sanitised (see ``MQTTClientID/defaultID(hostName:)``).
    static let defaultClientID = MQTTClientID.defaultID(hostName: ProcessInfo.processInfo.hostName)

    /// The effective value of `key` as text, in the form the sources accept, secrets in clear.
    func text(of key: SettingKey) -> String? {
        switch key {
        case .storePath: store.path
        case .storeURL: store.url
        case .storeFlushInterval: DurationText.format(store.flushInterval)
        case .storeResolutions: store.resolutions.map(\.description).joined(separator: ",")
        case .storeRetentionInterval: DurationText.format(store.retentionInterval)
        case .storeRetention:
            store.effectiveRetention.sorted { $0.key < $1.key }.map { "\($0.key)=\(DurationText.format($0.value))" }.joined(separator: ",")
        case .httpHost: http.host
        case .httpPort: String(http.port)
        case .httpToken: http.token
        case .httpMaxBody: ByteSize.format(http.maxBodyBytes)
        case .httpQueueWait: DurationText.format(http.queueWait)
        case .httpStreamBuffer: String(http.streamBuffer)
        case .httpMaxStreams: String(http.maxStreams)
        case .httpMaxConnections: String(http.maxConnections)
        case .httpIdleTimeout: DurationText.format(http.idleTimeout)
        case .httpAnswerUnflushed: String(http.answerUnflushed)
        case .httpTLSCert: http.tls?.certificate
        case .httpTLSKey: http.tls?.privateKey
        case .mqttURL: mqtt.url.description
        case .mqttEnabled: String(mqtt.enabled)
        case .mqttTopics: mqtt.topics.joined(separator: ",")
        case .mqttQoS: String(mqtt.qos)
        case .mqttClientID: mqtt.clientID
        case .mqttSharedGroup: mqtt.sharedGroup
        case .mqttProtocol: mqtt.protocolVersion.rawValue
        case .mqttKeepalive: DurationText.format(mqtt.keepalive)
        case .mqttReconnectMin: DurationText.format(mqtt.reconnectMin)
        case .mqttReconnectMax: DurationText.format(mqtt.reconnectMax)
        case .mqttReceiveMaximum: String(mqtt.receiveMaximum)
        case .mqttSessionExpiry: DurationText.format(mqtt.sessionExpiry)
        case .mqttMaxPayload: ByteSize.format(mqtt.maxPayloadBytes)
        case .mqttUsername: mqtt.username
        case .mqttPasswordFile: mqtt.passwordFile
        case .mqttTLSCA: mqtt.tlsCA
        case .mqttTLSCert: mqtt.tlsClient?.certificate
        case .mqttTLSKey: mqtt.tlsClient?.privateKey
        case .limitsMaxSeries: String(limits.maxSeries)
        case .limitsMaxMetricsPerDevice: String(limits.maxMetricsPerDevice)
        case .limitsMaxReadingsPerPayload: String(limits.maxReadingsPerPayload)
        case .limitsMaxQueryRows: String(limits.maxQueryRows)
        case .pipelineShards: String(pipeline.shards)
        case .pipelineQueueCapacity: String(pipeline.queueCapacity)
        case .pipelineMaxPendingBuckets: String(pipeline.maxPendingBuckets)
        case .pipelineMaxPendingBytes: ByteSize.format(pipeline.maxPendingBytes)
        case .pipelineShutdownDeadline: DurationText.format(pipeline.shutdownDeadline)
        case .pipelineMaxFutureSkew: DurationText.format(pipeline.maxFutureSkew)
        case .journalDirectory: journalDirectory
        case .journalFsync: journal.fsync.rawValue
        case .journalFsyncInterval: DurationText.format(journal.fsyncInterval)
        case .journalSegmentSize: ByteSize.format(journal.segmentSize)
        case .logLevel: log.level.rawValue
        case .logFormat: log.format.rawValue
        case .alertsLateness: DurationText.format(alerts.lateness)
        case .alertsRetryMin: DurationText.format(alerts.retryMin)
        case .alertsRetryMax: DurationText.format(alerts.retryMax)
        case .alertsWebhookTimeout: DurationText.format(alerts.webhookTimeout)
        case .alertsMaxQueued: String(alerts.maxQueued)
        case .alertsKeepResolved: DurationText.format(alerts.keepResolved)
        }
    }

    /// Every effective setting on one line, `key=value` separated by spaces, in
    /// ``SettingKey`` order, then `http.tokens` as name:scope:devices, safe to log:
    /// `http.token` shows `***` when set (`<none>` when not), an MQTT password shows `***`,
    /// and a scoped token only its name. Values holding spaces or quotes are quoted.
    ///
    /// `store.path=./sensorhub.db store.flush_interval=1s store.resolutions=10s,1m,1h
    /// http.host=127.0.0.1 http.port=8080 http.token=<none> ... http.tokens=grafana:read:*`
    public var redactedDescription: String {
        let keys = SettingKey.allCases.map { key in
            let value: String
            if key.isSecret {
                value = text(of: key) == nil ? "<none>" : "***"
            } else {
                value = Self.quotedIfNeeded(text(of: key) ?? "<none>")
            }
            return "\(key.rawValue)=\(value)"
        }
        let tokens = http.tokens.isEmpty ? "<none>" : http.tokens.map { "\($0.name):\($0.scope.rawValue):\($0.devices)" }.joined(separator: ",")
        let rules = rules.isEmpty ? "<none>" : rules.map(\.name).joined(separator: ",")
        let forward = forward.map { "\($0.topic):\($0.resolutions.map(\.description).joined(separator: ","))" } ?? "<none>"
        return (keys + ["\(TokenSpec.section).\(TokenSpec.key)=\(tokens)", "rules=\(Self.quotedIfNeeded(rules))", "forward=\(Self.quotedIfNeeded(forward))"])
            .joined(separator: " ")
    }

    private static func quotedIfNeeded(_ value: String) -> String {
        guard value.isEmpty || value.contains(where: { $0.isWhitespace || $0 == "\"" || $0 == "=" }) else {
            return value
        }
        let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return "\"\(escaped)\""
    }
}
