public import SensorCore

/// What an MQTT topic says about its payload (CONTRACT.md §2, MQTT):
/// `sensors/<device>/<metric>` names both, `sensors/<device>` names the device, and any
/// other topic (four levels or more, e.g. `sensors/gw/7/batch`) carries self-describing
/// payloads. The first level is the subscription's root, whatever it is called.
public struct TopicRoute: Sendable, Equatable {
    public enum Form: Sendable, Equatable {
        case deviceAndMetric
        case deviceOnly
        case selfDescribing
    }

    public let form: Form
    public let device: String?
    public let metric: String?

    public init(topic: String) {
        // Per message on the hot path: find the separators in the UTF-8 view, slice once.
        let utf8 = topic.utf8
        var separators: [String.Index] = []
        separators.reserveCapacity(3)
        var index = utf8.startIndex
        while index != utf8.endIndex, separators.count < 3 {
            if utf8[index] == UInt8(ascii: "/") { separators.append(index) }
            index = utf8.index(after: index)
        }
        switch separators.count {
        case 2:
            form = .deviceAndMetric
            device = String(topic[topic.index(after: separators[0])..<separators[1]])
            metric = String(topic[topic.index(after: separators[1])...])
        case 1:
            form = .deviceOnly
            device = String(topic[topic.index(after: separators[0])...])
            metric = nil
        default:
            form = .selfDescribing
            device = nil
            metric = nil
        }
    }

    /// The decode context for a payload that arrived now on this topic.
    public func context(arrivalTime: Int64) -> DecodeContext {
        DecodeContext(device: device, metric: metric, arrivalTime: arrivalTime)
    }

    /// Which payload format the bytes are, and whether this topic form allows it:
    /// JSON objects are native readings, arrays are SenML when their first record's first
    /// key is a SenML key (`bn`, `n`, `v`, `bt`, …) and native otherwise, a leading digit,
    /// sign or dot is a bare number, anything else is line protocol.
    public func format(of payload: UnsafeRawBufferPointer) throws(DecodeError) -> PayloadFormat {
        let sniffed = PayloadSniffer.format(of: payload)
        let allowed: Bool
        switch (form, sniffed) {
        case (_, .json), (_, .senml): allowed = true
        case (.deviceAndMetric, .bareNumber): allowed = true
        case (.selfDescribing, .lineProtocol): allowed = true
        default: allowed = false
        }
        guard allowed else {
            let what = sniffed == .bareNumber ? "a bare number" : "line protocol"
            let needs = sniffed == .bareNumber
                ? "only sensors/<device>/<metric> topics take bare numbers"
                : "line protocol is taken on self-describing topics (four levels or more) only"
            throw DecodeError(.malformed, index: nil, "\(what) is not accepted on this topic: \(needs)")
        }
        return sniffed
    }
}
