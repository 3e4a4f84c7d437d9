internal import CMosquitto

/// libmosquitto wants one process-wide `mosquitto_lib_init` before its first client.
enum MosquittoLibrary {
    static let ready: Bool = {
        mosquitto_lib_init()
        return true
    }()
}

extension MosquittoLibrary {
    /// What the broker's refusal code means: an MQTT 5 reason code (128 and up) or a
    /// 3.1.1 CONNACK return code (1–5).
    static func refusalText(_ code: Int32) -> String {
        code >= 128 ? String(cString: mosquitto_reason_string(code)) : String(cString: mosquitto_connack_string(code))
    }
}
