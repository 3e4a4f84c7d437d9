internal import CMosquitto
internal import Foundation
internal import Synchronization

/// A publishing MQTT client (libmosquitto, its own network thread via
/// `mosquitto_loop_start`) that counts broker acknowledgements: PUBACK for QoS 1, PUBCOMP
/// for QoS 2, the socket write for QoS 0. Used by `sensorhub simulate`.
///
/// Thread-safety: libmosquitto's publish is safe next to its own loop thread; the counters
/// the publish callback updates are atomics, so the object is `Sendable`.
public final class MQTTPublisher: Sendable {
    private nonisolated(unsafe) let handle: OpaquePointer
    private let acknowledgedCount = Atomic<Int>(0)
    private let connected = Atomic<Bool>(false)

    public init(clientID: String, protocolVersion: MQTTSourceConfiguration.ProtocolVersion = .v5, username: String? = nil, password: String? = nil) throws(MQTTSourceError) {
        _ = MosquittoLibrary.ready
        guard let handle = mosquitto_new(clientID, true, nil) else {
            throw MQTTSourceError("cannot create an MQTT client: \(String(cString: strerror(errno)))")
        }
        self.handle = handle
        let version = protocolVersion == .v5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311
        mosquitto_int_option(handle, MOSQ_OPT_PROTOCOL_VERSION, Int32(version))
        // Let libmosquitto keep up to 1000 QoS > 0 messages in flight; the caller bounds
        // what it queues beyond that with `waitUntilInFlight(atMost:)`.
        mosquitto_max_inflight_messages_set(handle, 1_000)
        // After a lost connection the network thread retries every second.
        mosquitto_reconnect_delay_set(handle, 1, 1, false)
        if let username { mosquitto_username_pw_set(handle, username, password) }
        mosquitto_user_data_set(handle, Unmanaged.passUnretained(self).toOpaque())
        mosquitto_publish_callback_set(handle) { _, userData, _ in
            guard let userData else { return }
            Unmanaged<MQTTPublisher>.fromOpaque(userData).takeUnretainedValue()
                .acknowledgedCount.add(1, ordering: .relaxed)
        }
        mosquitto_connect_callback_set(handle) { _, userData, code in
            guard let userData, code == 0 else { return }
            Unmanaged<MQTTPublisher>.fromOpaque(userData).takeUnretainedValue().connected.store(true, ordering: .releasing)
        }
    }

    deinit {
        mosquitto_loop_stop(handle, true)
        mosquitto_destroy(handle)
    }

    /// Connects and starts the network thread; waits for the broker's CONNACK.
    public func connect(host: String, port: Int, timeout: Duration = .seconds(10)) throws(MQTTSourceError) {
        let code = mosquitto_connect(handle, host, Int32(port), 60)
        guard code == MOSQ_ERR_SUCCESS.rawValue else {
            let text = code == MOSQ_ERR_ERRNO.rawValue ? String(cString: strerror(errno)) : String(cString: mosquitto_strerror(code))
            throw MQTTSourceError("cannot connect to mqtt://\(host):\(port): \(text)")
        }
        mosquitto_loop_start(handle)
        let deadline = ContinuousClock.now + timeout
        while !connected.load(ordering: .acquiring) {
            guard ContinuousClock.now < deadline else { throw MQTTSourceError("mqtt://\(host):\(port) did not accept the connection") }
            Thread.sleep(forTimeInterval: 0.005)
        }
    }

    /// Messages the broker has acknowledged so far.
    public var acknowledged: Int { acknowledgedCount.load(ordering: .relaxed) }

    /// Queues one message for sending. While the connection is down (a broker restart)
    /// it waits for libmosquitto's network thread to reconnect, up to `reconnectTimeout`;
    /// messages already queued but unacknowledged are resent by libmosquitto itself.
    public func publish(topic: String, payload: [UInt8], qos: Int, reconnectTimeout: Duration = .seconds(60)) throws(MQTTSourceError) {
        let deadline = ContinuousClock.now + reconnectTimeout
        while true {
            let code = payload.withUnsafeBytes { bytes in
                mosquitto_publish(handle, nil, topic, Int32(bytes.count), bytes.baseAddress, Int32(qos), false)
            }
            if code == MOSQ_ERR_SUCCESS.rawValue { return }
            guard code == MOSQ_ERR_NO_CONN.rawValue, ContinuousClock.now < deadline else {
                throw MQTTSourceError("publishing to \(topic) failed: \(String(cString: mosquitto_strerror(code)))")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    /// Blocks until no more than `limit` of the `sent` messages await acknowledgement, or
    /// `timeout` passes; returns whether it got there.
    @discardableResult
    public func waitUntilInFlight(atMost limit: Int, sent: Int, timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while sent - acknowledged > limit {
            guard ContinuousClock.now < deadline else { return false }
            Thread.sleep(forTimeInterval: 0.0005)
        }
        return true
    }

    public func disconnect() {
        mosquitto_disconnect(handle)
        mosquitto_loop_stop(handle, false)
    }
}
