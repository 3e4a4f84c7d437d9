internal import Configuration

/// Every setting the daemon understands, named by its dotted key (`section.key`, snake_case).
///
/// The same key names the value in every source:
/// - config file: nested YAML sections (`http:` → `port: 8080`);
/// - environment: `SENSORHUB_` + section + `_` + key in capitals (`SENSORHUB_HTTP_PORT`),
///   the name swift-configuration's `EnvironmentVariablesProvider` derives for the key
///   prefixed with `sensorhub` (see ``environmentVariable``);
/// - flags: the caller passes parsed flags keyed by this dotted key; ``flag`` is the name
///   used in messages.
public enum SettingKey: String, CaseIterable, Sendable {
    case storePath = "store.path"
    case storeURL = "store.url"
    case storeFlushInterval = "store.flush_interval"
    case storeResolutions = "store.resolutions"
    case storeRetention = "store.retention"
    case storeRetentionInterval = "store.retention_interval"
    case httpHost = "http.host"
    case httpPort = "http.port"
    case httpToken = "http.token"
    case httpMaxBody = "http.max_body"
    case httpQueueWait = "http.queue_wait"
    case httpStreamBuffer = "http.stream_buffer"
    case httpMaxStreams = "http.max_streams"
    case httpMaxConnections = "http.max_connections"
    case httpIdleTimeout = "http.idle_timeout"
    case httpAnswerUnflushed = "http.answer_unflushed"
    case httpTLSCert = "http.tls.cert"
    case httpTLSKey = "http.tls.key"
    case mqttURL = "mqtt.url"
    case mqttEnabled = "mqtt.enabled"
    case mqttTopics = "mqtt.topics"
    case mqttQoS = "mqtt.qos"
    case mqttClientID = "mqtt.client_id"
    case mqttSharedGroup = "mqtt.shared_group"
    case mqttProtocol = "mqtt.protocol"
    case mqttKeepalive = "mqtt.keepalive"
    case mqttReconnectMin = "mqtt.reconnect_min"
    case mqttReconnectMax = "mqtt.reconnect_max"
    case mqttReceiveMaximum = "mqtt.receive_maximum"
    case mqttSessionExpiry = "mqtt.session_expiry"
    case mqttMaxPayload = "mqtt.max_payload"
    case mqttUsername = "mqtt.username"
    case mqttPasswordFile = "mqtt.password_file"
    case mqttTLSCA = "mqtt.tls.ca"
    case mqttTLSCert = "mqtt.tls.cert"
    case mqttTLSKey = "mqtt.tls.key"
    case pipelineShards = "pipeline.shards"
    case pipelineQueueCapacity = "pipeline.queue_capacity"
    case pipelineMaxPendingBuckets = "pipeline.max_pending_buckets"
    case pipelineMaxPendingBytes = "pipeline.max_pending_bytes"
    case pipelineShutdownDeadline = "pipeline.shutdown_deadline"
    case pipelineMaxFutureSkew = "pipeline.max_future_skew"
    case limitsMaxSeries = "limits.max_series"
    case limitsMaxMetricsPerDevice = "limits.max_metrics_per_device"
    case limitsMaxReadingsPerPayload = "limits.max_readings_per_payload"
    case limitsMaxQueryRows = "limits.max_query_rows"
    case journalDirectory = "journal.directory"
    case journalFsync = "journal.fsync"
    case journalFsyncInterval = "journal.fsync_interval"
    case journalSegmentSize = "journal.segment_size"
    case logLevel = "log.level"
    case logFormat = "log.format"
    case alertsLateness = "alerts.lateness"
    case alertsRetryMin = "alerts.retry_min"
    case alertsRetryMax = "alerts.retry_max"
    case alertsWebhookTimeout = "alerts.webhook_timeout"
    case alertsMaxQueued = "alerts.max_queued"
    case alertsKeepResolved = "alerts.keep_resolved"

    /// The config file section (`store`, `http`, `mqtt`, `pipeline`, `limits`, `journal`, `log`).
    public var section: String { String(rawValue.prefix(while: { $0 != "." })) }

    /// The key inside its section (`flush_interval`, or `tls.cert` inside the `tls`
    /// subsection).
    public var name: String { String(rawValue.drop(while: { $0 != "." }).dropFirst()) }

    /// All sections, in declaration order.
    public static let sections: [String] = {
        var seen: [String] = []
        for key in allCases where !seen.contains(key.section) { seen.append(key.section) }
        return seen
    }()

    /// The environment variable that sets this key (`SENSORHUB_STORE_FLUSH_INTERVAL`).
    public var environmentVariable: String { Self.environmentNames[self] ?? Self.fallbackEnvironmentName(rawValue) }

    /// The command-line flag that sets this key, as named in messages (`--http-port`).
    /// The contract flags have their own names (`--db`, `--http-host`, `--http-port`,
    /// `--mqtt-url`, `--tls-cert`, `--tls-key`); the others are the key in kebab-case
    /// (`--log-level`).
    public var flag: String {
        switch self {
        case .storePath, .storeURL: "--db"
        case .httpHost: "--http-host"
        case .httpPort: "--http-port"
        case .mqttURL: "--mqtt-url"
        case .httpTLSCert: "--tls-cert"
        case .httpTLSKey: "--tls-key"
        default: "--" + rawValue.map { $0 == "." || $0 == "_" ? "-" : $0 }.map(String.init).joined()
        }
    }

    /// Whether the value is a secret: masked in descriptions and access logs, never echoed
    /// in error messages.
    public var isSecret: Bool { self == .httpToken || self == .storeURL }

    /// For the keys that take a list (in the file also as a YAML list), an example item for
    /// messages; nil for single-value keys.
    var listItemExample: String? {
        switch self {
        case .storeResolutions: "10s"
        case .storeRetention: "10s=7d"
        case .mqttTopics: "sensors/#"
        default: nil
        }
    }

    /// The prefix added to every key before `EnvironmentVariablesProvider` maps it to a name.
    static let environmentPrefix = "sensorhub"

    /// Environment names as computed by swift-configuration itself: we ask a prefixed
    /// `EnvironmentVariablesProvider` which name it looks up for each key, so the list of
    /// accepted names can never drift from what the provider actually reads.
    private static let environmentNames: [SettingKey: String] = {
        let provider = EnvironmentVariablesProvider(environmentVariables: [:])
            .prefixKeys(with: ConfigKey(environmentPrefix))
        var names: [SettingKey: String] = [:]
        for key in allCases {
            if let lookup = try? provider.value(forKey: AbsoluteConfigKey(ConfigKey(key.rawValue)), type: .string) {
                names[key] = lookup.encodedKey
            }
        }
        return names
    }()

    /// The documented rule (`SENSORHUB_` + key in capitals, `.` → `_`), used only if the
    /// provider could not be asked.
    private static func fallbackEnvironmentName(_ key: String) -> String {
        "SENSORHUB_" + key.uppercased().map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
    }
}
