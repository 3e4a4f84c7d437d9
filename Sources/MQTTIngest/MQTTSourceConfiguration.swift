/// How the MQTT source connects and subscribes.
public struct MQTTSourceConfiguration: Sendable {
    public enum ProtocolVersion: Sendable {
        case v5
        case v311
    }

    public var host: String
    public var port: Int
    /// Credentials and TLS.
    public var security: MQTTSecurity
    /// Topic filters to subscribe to (default `sensors/#`).
    public var topics: [String]
    /// Subscribe as this shared subscription group (`$share/NAME/<filter>`): the broker
    /// hands each message to one member of the group.
    public var sharedGroup: String?

    /// The filters as subscribed: shared when a group is set.
    var subscriptions: [String] {
        guard let sharedGroup else { return topics }
        return topics.map { "$share/\(sharedGroup)/\($0)" }
    }
    public var qos: Int
    /// Stable across restarts, so the broker keeps the session (clean session off).
    public var clientID: String
    public var protocolVersion: ProtocolVersion
    public var keepalive: Duration
    /// Reconnect backoff: doubles from `reconnectMin` up to `reconnectMax`, with jitter.
    public var reconnectMin: Duration
    public var reconnectMax: Duration
    /// MQTT 5 receive maximum: QoS > 0 messages the broker may have in flight to us.
    public var receiveMaximum: Int
    /// MQTT 5 session expiry: how long the broker keeps our session while we are away.
    public var sessionExpiry: Duration
    /// Largest message payload taken (`mqtt.max_payload`); larger ones are refused
    /// (`too_large`), and an MQTT 5 broker is told not to send them at all.
    public var maxPayloadBytes: Int

    /// The MQTT 5 Maximum Packet Size announced: the payload limit plus 4 KiB for the
    /// topic and the headers (a message with a longer topic and a payload close to the
    /// limit is dropped by the broker).
    var maxPacketBytes: Int { maxPayloadBytes + 4_096 }

    public init(
        host: String, port: Int, security: MQTTSecurity = MQTTSecurity(),
        topics: [String] = ["sensors/#"], qos: Int = 1, clientID: String,
        protocolVersion: ProtocolVersion = .v5, keepalive: Duration = .seconds(60),
        reconnectMin: Duration = .milliseconds(500), reconnectMax: Duration = .seconds(30),
        receiveMaximum: Int = 100, sessionExpiry: Duration = .seconds(86_400), maxPayloadBytes: Int = 1 << 20,
        sharedGroup: String? = nil
    ) {
        self.sharedGroup = sharedGroup
        self.maxPayloadBytes = maxPayloadBytes
        self.host = host
        self.port = port
        self.security = security
        self.topics = topics
        self.qos = qos
        self.clientID = clientID
        self.protocolVersion = protocolVersion
        self.keepalive = keepalive
        self.reconnectMin = reconnectMin
        self.reconnectMax = reconnectMax
        self.receiveMaximum = receiveMaximum
        self.sessionExpiry = sessionExpiry
    }
}
