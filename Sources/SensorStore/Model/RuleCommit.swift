public import SensorCore

/// What one rule evaluation stores, committed by ``SensorStore/commitRules(_:maxQueued:)``
/// in one transaction: the states it changed, how far each rule and forwarded resolution
/// got, and the deliveries its transitions and closed buckets caused. A restart reads
/// back exactly what was committed, so it neither repeats nor loses a transition.
public struct RuleCommit: Sendable {
    /// New states per rule and series; a state not ``AlertState/isWorthKeeping`` is deleted.
    public var states: [RuleStateChange]
    /// Windows ending at or before these times (µs) were handled, per position name.
    public var positions: [String: Int64]
    /// Deliveries to queue, in order.
    public var deliveries: [Delivery]

    public init(states: [RuleStateChange] = [], positions: [String: Int64] = [:], deliveries: [Delivery] = []) {
        self.states = states
        self.positions = positions
        self.deliveries = deliveries
    }

    public var isEmpty: Bool { states.isEmpty && positions.isEmpty && deliveries.isEmpty }
}

/// A rule's new state for one series.
public struct RuleStateChange: Sendable {
    public var rule: String
    public var series: SeriesKey
    public var state: AlertState

    public init(rule: String, series: SeriesKey, state: AlertState) {
        self.rule = rule
        self.series = series
        self.state = state
    }
}

/// One message for a target: a webhook POST or an MQTT publish.
public struct Delivery: Sendable, Equatable {
    /// `webhook <url>` or `mqtt`: deliveries of one channel go out in order.
    public var channel: String
    /// The rule that caused it, or `forward`.
    public var rule: String
    /// The MQTT topic; nil for a webhook.
    public var topic: String?
    public var body: String
    /// Its row id once queued; nil before.
    public var id: Int64?

    public init(channel: String, rule: String, topic: String? = nil, body: String, id: Int64? = nil) {
        self.channel = channel
        self.rule = rule
        self.topic = topic
        self.body = body
        self.id = id
    }

    /// The channel of the MQTT actions and forwarding (one connection, one order).
    public static let mqttChannel = "mqtt"

    /// The channel of webhook posts to `url`.
    public static func webhookChannel(_ url: String) -> String { "webhook " + url }
}
