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
        var topic = topic
        self = topic.withUTF8 { Self(topic: UnsafeRawBufferPointer($0)) }
    }

    /// The route of a topic given as its UTF-8 bytes (libmosquitto's, per message on the
    /// hot path): the separators are found in the bytes and the names cut from them, with
    /// no `String` of the whole topic (one of more than 15 bytes is a heap allocation).
    public init(topic bytes: UnsafeRawBufferPointer) {
        // Places of the first three separators; past three the topic is self-describing.
        var first = -1, second = -1, separators = 0
        for index in bytes.indices where bytes[index] == UInt8(ascii: "/") {
            separators += 1
            if separators == 1 { first = index } else if separators == 2 { second = index } else { break }
        }
        func name(_ range: Range<Int>) -> String { String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self) }
        switch separators {
        case 2:
            form = .deviceAndMetric
            device = name(first + 1..<second)
            metric = name(second + 1..<bytes.count)
        case 1:
            form = .deviceOnly
            device = name(first + 1..<bytes.count)
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
