/// The MQTT protocol version spoken to the broker, written `5` or `3.1.1` (also `311`).
public enum MQTTProtocol: String, CaseIterable, Sendable {
    case v5 = "5"
    case v311 = "3.1.1"

    /// The protocol level byte of the CONNECT packet: 5 for MQTT 5, 4 for 3.1.1 (the values
    /// of libmosquitto's `MQTT_PROTOCOL_V5` and `MQTT_PROTOCOL_V311`).
    public var protocolLevel: Int {
        switch self {
        case .v5: 5
        case .v311: 4
        }
    }

    /// Parses the setting text: ``rawValue`` or `311`.
    init?(text: String) {
        if text == "311" {
            self = .v311
        } else {
            self.init(rawValue: text)
        }
    }
}
