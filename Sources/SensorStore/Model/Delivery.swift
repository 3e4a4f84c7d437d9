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
