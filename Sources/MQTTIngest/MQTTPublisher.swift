internal import CMosquitto
internal import Foundation
internal import Synchronization

/// A publishing MQTT client (libmosquitto, its own network thread via
/// `mosquitto_loop_start`) that counts broker acknowledgements: PUBACK for QoS 1, PUBCOMP
/// for QoS 2, the socket write for QoS 0. Used by `sensorhub simulate`, and by the daemon
/// for rule actions and forwarding.
///
/// Acknowledgements are matched to the message ids of the messages this object queued,
/// so a message counts as acknowledged exactly once and only when the broker took it:
/// `acknowledged` can never run ahead of what the broker really holds.
///
/// Thread-safety: libmosquitto's publish is safe next to its own loop thread. The
/// messages in flight and the acknowledged count sit behind one `Mutex`, which `publish`
/// holds across `mosquitto_publish`, so the acknowledgement of a message (delivered on
/// the network thread) cannot be seen before its id was recorded.
public final class MQTTPublisher: Sendable {
    private struct Tally {
        /// Ids of queued messages the broker has not acknowledged yet.
        var inFlight: Set<Int32> = []
        var acknowledged = 0
    }

    private nonisolated(unsafe) let handle: OpaquePointer
    private let tally = Mutex(Tally())
    /// The broker's CONNACK code; -1 until it answered.
    private let connack = Atomic<Int32>(-1)
    /// Whether the network thread runs: from then on it reconnects by itself.
    private let looping = Atomic<Bool>(false)
    /// The last error libmosquitto logged (a TLS handshake's reason, for one).
    private let lastProblem = Mutex<String?>(nil)
    private let target: String

    public init(clientID: String, protocolVersion: MQTTSourceConfiguration.ProtocolVersion = .v5, security: MQTTSecurity = MQTTSecurity()) throws(MQTTSourceError) {
        _ = MosquittoLibrary.ready
        guard let handle = mosquitto_new(clientID, true, nil) else {
            throw MQTTSourceError("cannot create an MQTT client: \(String(cString: strerror(errno)))")
        }
        self.handle = handle
        target = security.tls == nil ? "mqtt://" : "mqtts://"
        let version = protocolVersion == .v5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311
        mosquitto_int_option(handle, MOSQ_OPT_PROTOCOL_VERSION, Int32(version))
        // Let libmosquitto keep up to 1000 QoS > 0 messages in flight; the caller bounds
        // what it queues beyond that with `waitUntilInFlight(atMost:)`.
        mosquitto_max_inflight_messages_set(handle, 1_000)
        // After a lost connection the network thread retries every second.
        mosquitto_reconnect_delay_set(handle, 1, 1, false)
        // A throw from here on runs deinit, which destroys the handle.
        try security.apply(to: handle)
        mosquitto_user_data_set(handle, Unmanaged.passUnretained(self).toOpaque())
        mosquitto_publish_callback_set(handle) { _, userData, mid in
            guard let userData else { return }
            Unmanaged<MQTTPublisher>.fromOpaque(userData).takeUnretainedValue().didAcknowledge(mid)
        }
        mosquitto_connect_callback_set(handle) { _, userData, code in
            guard let userData else { return }
            Unmanaged<MQTTPublisher>.fromOpaque(userData).takeUnretainedValue().connack.store(code, ordering: .releasing)
        }
        mosquitto_log_callback_set(handle) { client, userData, level, text in
            guard let userData, let text, level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING) != 0 else { return }
            let problem = MQTTSecurity.problem(logged: String(cString: text), handle: client)
            Unmanaged<MQTTPublisher>.fromOpaque(userData).takeUnretainedValue().lastProblem.withLock { $0 = problem }
        }
    }

    deinit {
        mosquitto_loop_stop(handle, true)
        mosquitto_destroy(handle)
    }

    /// Connects and starts the network thread; waits for the broker's CONNACK.
    /// - Throws: ``MQTTSourceError`` saying why: unreachable, a TLS handshake that failed
    ///   (with libmosquitto's reason), refused credentials, no answer.
    public func connect(host: String, port: Int, timeout: Duration = .seconds(10)) throws(MQTTSourceError) {
        let broker = "\(target)\(host):\(port)"
        let code = mosquitto_connect(handle, host, Int32(port), 60)
        guard code == MOSQ_ERR_SUCCESS.rawValue else {
            let text = code == MOSQ_ERR_ERRNO.rawValue ? String(cString: strerror(errno)) : String(cString: mosquitto_strerror(code))
            let detail = lastProblem.withLock { $0 }.map { " (\($0))" } ?? ""
            throw MQTTSourceError("cannot connect to \(broker): \(text)\(detail)")
        }
        mosquitto_loop_start(handle)
        looping.store(true, ordering: .releasing)
        let deadline = ContinuousClock.now + timeout
        while true {
            let answer = connack.load(ordering: .acquiring)
            if answer == 0 { return }
            if answer > 0 {
                throw MQTTSourceError("\(broker) refused the connection: \(MosquittoLibrary.refusalText(answer))")
            }
            guard ContinuousClock.now < deadline else {
                let detail = lastProblem.withLock { $0 }.map { ": \($0)" } ?? ""
                throw MQTTSourceError("\(broker) did not accept the connection\(detail)")
            }
            Thread.sleep(forTimeInterval: 0.005)
        }
    }

    /// Whether ``connect(host:port:timeout:)`` got as far as starting the network thread,
    /// which reconnects by itself after that (even if the CONNACK did not come in time):
    /// connect must not be called again then.
    public var isStarted: Bool { looping.load(ordering: .acquiring) }

    /// Queued messages the broker has not acknowledged yet.
    public var inFlight: Int { tally.withLock { $0.inFlight.count } }

    /// Messages the broker has acknowledged so far.
    public var acknowledged: Int { tally.withLock { $0.acknowledged } }

    /// Queues one message for sending.
    ///
    /// For QoS 1 and 2, libmosquitto queues the message *before* it tries the socket, and
    /// answers `MOSQ_ERR_NO_CONN` when the connection is down (a broker restart) although
    /// the message stays queued: its network thread sends it after reconnecting. Publishing
    /// it again would queue a second copy. So only QoS 0, which libmosquitto does not
    /// keep, is retried while the connection is down, for up to `reconnectTimeout`.
    public func publish(topic: String, payload: [UInt8], qos: Int, reconnectTimeout: Duration = .seconds(60)) throws(MQTTSourceError) {
        let deadline = ContinuousClock.now + reconnectTimeout
        while true {
            let code = tally.withLock { tally in
                var mid: Int32 = 0
                let code = payload.withUnsafeBytes { bytes in
                    mosquitto_publish(handle, &mid, topic, Int32(bytes.count), bytes.baseAddress, Int32(qos), false)
                }
                let queued = code == MOSQ_ERR_SUCCESS.rawValue || (qos > 0 && code == MOSQ_ERR_NO_CONN.rawValue)
                if queued { tally.inFlight.insert(mid) }
                return queued ? MOSQ_ERR_SUCCESS.rawValue : code
            }
            if code == MOSQ_ERR_SUCCESS.rawValue { return }
            guard code == MOSQ_ERR_NO_CONN.rawValue, ContinuousClock.now < deadline else {
                throw MQTTSourceError("publishing to \(topic) failed: \(String(cString: mosquitto_strerror(code)))")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    /// Blocks until no more than `limit` queued messages await acknowledgement, or
    /// `timeout` passes; returns whether it got there.
    @discardableResult
    public func waitUntilInFlight(atMost limit: Int, timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while tally.withLock({ $0.inFlight.count }) > limit {
            guard ContinuousClock.now < deadline else { return false }
            Thread.sleep(forTimeInterval: 0.0005)
        }
        return true
    }

    public func disconnect() {
        mosquitto_disconnect(handle)
        mosquitto_loop_stop(handle, false)
    }

    /// On the network thread: the broker acknowledged message `mid`.
    private func didAcknowledge(_ mid: Int32) {
        tally.withLock { tally in
            if tally.inFlight.remove(mid) != nil { tally.acknowledged += 1 }
        }
    }
}
