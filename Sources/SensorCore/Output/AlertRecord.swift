/// One alert as `GET /v1/alerts`, `sensorhub alerts`, webhooks, MQTT actions and the live
/// stream show it (CONTRACT §7): `{"rule","device","metric","state","since","value"}`,
/// `since` in RFC 3339 UTC, `value` a number or null.
public struct AlertRecord: Decodable, Sendable, Equatable {
    public var rule: String
    public var device: String
    public var metric: String
    /// `firing` or `resolved`.
    public var state: String
    public var since: String
    public var value: Double?

    public static let columns = ["rule", "device", "metric", "state", "since", "value"]

    public init(rule: String, series: SeriesKey, state: AlertState) {
        self.rule = rule
        device = series.device
        metric = series.metric
        self.state = state.phase == .firing ? "firing" : "resolved"
        since = RFC3339.format(state.since)
        value = state.value
    }

    /// Cell texts in ``columns`` order.
    public var cells: [String] { [rule, device, metric, state, since, value.map { "\($0)" } ?? ""] }

    /// This alert as one JSON object with the contract's keys, in contract order.
    public func appendJSON(to out: inout String) {
        out += "{\"rule\":"
        JSONText.appendString(rule, to: &out)
        out += ",\"device\":"
        JSONText.appendString(device, to: &out)
        out += ",\"metric\":"
        JSONText.appendString(metric, to: &out)
        out += ",\"state\":"
        JSONText.appendString(state, to: &out)
        out += ",\"since\":"
        JSONText.appendString(since, to: &out)
        out += ",\"value\":"
        JSONText.appendNumber(value, to: &out)
        out += "}"
    }

    public var json: String {
        var out = ""
        appendJSON(to: &out)
        return out
    }
}
