internal import CMosquitto
internal import Foundation
public import Logging
internal import Metrics
internal import SensorCore
public import SensorPipeline
public import ServiceLifecycle
internal import Synchronization

/// The MQTT road in: a libmosquitto client subscribed to the configured filters, feeding
/// every valid message into the pipeline, run as a service inside `sensorhub serve`.
///
/// ## The bridge between libmosquitto's thread and Swift concurrency
/// One dedicated `Thread` owns the libmosquitto handle: it connects, runs
/// `mosquitto_loop`, and every callback (connect, message, disconnect) runs on it,
/// synchronously inside that loop. The callbacks are capture-free C functions that find
/// this object through libmosquitto's user-data pointer. Nothing else touches the handle
/// after `init`, which is why it can be `nonisolated(unsafe)`; everything the callbacks
/// share with other threads (connection state, the stop flag) is `Atomic`, the pipeline
/// and the loggers are `Sendable`, so the object is `Sendable` for real.
///
/// The loop is ours, not `mosquitto_loop`'s (see ``turn(timeout:)``): each turn reads the
/// messages that have arrived, decodes and checks each in the message callback, submits
/// them together (``MessageRound``: one journal append per shard for a burst), and only
/// then lets libmosquitto write what it queued, their QoS 1 PUBACKs among it. So an
/// acknowledgement never leaves before its readings are in the journal, and a burst of
/// single-reading messages is not a journal write per message.
///
/// Backpressure: the submit blocks this thread while a shard queue has no room, so a full
/// pipeline delays the acknowledgements and the broker holds the backlog (persistent
/// session: clean session off, stable client id, MQTT 5 session expiry). The MQTT 5
/// receive maximum caps what the broker sends before our acknowledgements.
public final class MQTTSource: Service, Sendable {
    public let configuration: MQTTSourceConfiguration
    private let pipeline: Pipeline
    private let ingest: IngestEntry
    private let logger: Logger
    private let rejects: RejectLogger
    private let state = Atomic<UInt8>(MQTTConnectionState.stopped.rawValue)
    private let stopRequested = Atomic<Bool>(false)
    /// Set by the connect callback when the broker accepted us: the loop resets its backoff.
    private let accepted = Atomic<Bool>(false)
    private let finished = OneShotEvent()
    /// The last error libmosquitto logged over TLS (why a handshake failed, for one), added
    /// to the next connection warning.
    private let lastProblem = Mutex<String?>(nil)
    /// Used by the loop thread only once `init` is done (see the type's comment).
    private nonisolated(unsafe) let handle: OpaquePointer
    /// The checked messages of the current turn (loop thread only; the lock is never contended).
    private let round: Mutex<MessageRound>
    /// Messages the callback was handed so far (loop thread only).
    private let received = Atomic<Int>(0)
    private let reconnects = Counter(label: "sensorhub_mqtt_reconnects_total")
    private let connectedGauge = Gauge(label: "sensorhub_mqtt_connected")

    public init(configuration: MQTTSourceConfiguration, pipeline: Pipeline, logger: Logger) throws(MQTTSourceError) {
        _ = MosquittoLibrary.ready
        guard let handle = mosquitto_new(configuration.clientID, false, nil) else {
            throw MQTTSourceError("cannot create an MQTT client: \(String(cString: strerror(errno)))")
        }
        self.configuration = configuration
        self.pipeline = pipeline
        self.ingest = pipeline.entry(for: .mqtt)
        self.logger = logger
        self.rejects = RejectLogger(logger: logger)
        self.round = Mutex(MessageRound(maxReadings: min(Self.maxReadingsPerSubmit, pipeline.configuration.limits.maxReadingsPerPayload)))
        self.handle = handle

        // libmosquitto queues the QoS 1 PUBACK *before* it calls on_message, and in its
        // default (unthreaded) mode writes it to the socket at once: a crash before the
        // readings are in the journal would lose an acknowledged message. In "threaded"
        // mode queued packets are written only by mosquitto_loop_write, which `turn` calls
        // once the turn's messages are submitted. (We do drive the loop from our own
        // thread, which is what the mode is for.)
        mosquitto_threaded_set(handle, true)
        let version = configuration.protocolVersion == .v5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311
        mosquitto_int_option(handle, MOSQ_OPT_PROTOCOL_VERSION, Int32(version))
        if configuration.protocolVersion == .v5 {
            mosquitto_int_option(handle, MOSQ_OPT_RECEIVE_MAXIMUM, Int32(configuration.receiveMaximum))
        }

        // A throw from here on runs deinit, which destroys the handle.
        try configuration.security.apply(to: handle)
        mosquitto_user_data_set(handle, Unmanaged.passUnretained(self).toOpaque())
        mosquitto_connect_callback_set(handle) { _, userData, code in
            guard let userData else { return }
            Unmanaged<MQTTSource>.fromOpaque(userData).takeUnretainedValue().didConnect(code: code)
        }
        // libmosquitto formats every line it logs before it calls the callback, whatever
        // the level: two lines per QoS 1 message (its PUBLISH and its PUBACK), about 2% of
        // the daemon's CPU on single-reading messages. Only over TLS does a warning or
        // error explain a failure (why the handshake or a read failed); over plain TCP the
        // return code and errno do.
        if configuration.security.tls != nil {
            mosquitto_log_callback_set(handle) { client, userData, level, text in
                guard let userData, let text, level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING) != 0 else { return }
                let problem = MQTTSecurity.problem(logged: String(cString: text), handle: client)
                Unmanaged<MQTTSource>.fromOpaque(userData).takeUnretainedValue().lastProblem.withLock { $0 = problem }
            }
        }
        mosquitto_message_callback_set(handle) { _, userData, message in
            guard let userData, let message else { return }
            Unmanaged<MQTTSource>.fromOpaque(userData).takeUnretainedValue().didReceive(message.pointee)
        }
    }

    deinit {
        mosquitto_destroy(handle)
    }

    /// Where the connection stands right now.
    public var connectionState: MQTTConnectionState {
        MQTTConnectionState(rawValue: state.load(ordering: .relaxed)) ?? .stopped
    }

    /// Connects (retrying with backoff for as long as it takes) and takes messages until
    /// graceful shutdown, then disconnects, keeping the session on the broker.
    public func run() async throws {
        // Messages are taken only once the journal was replayed (the pipeline refuses
        // readings before); a pipeline that stopped meanwhile leaves nothing to do.
        await pipeline.recovered.wait()
        guard pipeline.isAccepting else {
            finished.signal()
            return
        }
        let thread = Thread { [self] in
            ThreadName.set("sensorhub-mqtt")
            runLoop()
        }
        thread.start()
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await finished.wait()
            } onGracefulShutdown: {
                self.stopRequested.store(true, ordering: .releasing)
            }
        } onCancel: {
            self.stopRequested.store(true, ordering: .releasing)
        }
    }

    // MARK: The loop thread

    private var isStopping: Bool { stopRequested.load(ordering: .acquiring) }

    private func setState(_ new: MQTTConnectionState) {
        state.store(new.rawValue, ordering: .relaxed)
        connectedGauge.record(new == .connected ? 1 : 0)
    }

    private func runLoop() {
        let backoff = Backoff(minimum: configuration.reconnectMin, maximum: configuration.reconnectMax)
        var attempt = 0
        var socketOpen = false
        let target = "\(configuration.security.tls == nil ? "mqtt" : "mqtts")://\(configuration.host):\(configuration.port)"
        while !isStopping {
            if !socketOpen {
                setState(.connecting)
                let code = connect()
                guard code == MOSQ_ERR_SUCCESS.rawValue else {
                    let wait = backoff.delay(afterFailures: attempt)
                    attempt += 1
                    logger.warning("connecting to broker failed", metadata: [
                        "broker": "\(target)", "error": "\(Self.errorText(code))", "detail": "\(takeProblem())", "retry_in": "\(wait)",
                    ])
                    pause(wait)
                    continue
                }
                socketOpen = true
            }
            let code = turn(timeout: 100)
            if accepted.exchange(false, ordering: .acquiringAndReleasing) { attempt = 0 }
            if code != MOSQ_ERR_SUCCESS.rawValue {
                socketOpen = false
                setState(.connecting)
                reconnects.increment()
                let wait = backoff.delay(afterFailures: attempt)
                attempt += 1
                logger.warning("lost connection to broker", metadata: [
                    "broker": "\(target)", "error": "\(Self.errorText(code))", "detail": "\(takeProblem())", "retry_in": "\(wait)",
                ])
                pause(wait)
            }
        }
        if socketOpen {
            // A normal DISCONNECT: with clean session off the broker keeps our session and
            // queues what arrives until we are back.
            mosquitto_disconnect(handle)
            for _ in 0..<20 where turn(timeout: 50) == MOSQ_ERR_SUCCESS.rawValue {}
            logger.info("disconnected from broker, session kept", metadata: ["broker": "\(target)"])
        }
        setState(.stopped)
        finished.signal()
    }

    /// One turn of the connection, what `mosquitto_loop` does but for when it writes:
    /// waits up to `timeout` ms for the socket; reads the messages that have arrived (up to
    /// ``maxMessagesPerTurn``), which the message callback decodes, checks and gathers;
    /// submits them; only then writes the packets libmosquitto queued (the messages'
    /// PUBACKs among them); and keeps the connection alive. A libmosquitto error code
    /// other than success means the connection is lost.
    private func turn(timeout: Int32) -> Int32 {
        let socket = mosquitto_socket(handle)
        guard socket >= 0 else { return MOSQ_ERR_NO_CONN.rawValue }
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN) | (mosquitto_want_write(handle) ? Int16(POLLOUT) : 0), revents: 0)
        guard poll(&descriptor, 1, timeout) >= 0 else {
            return errno == EINTR ? MOSQ_ERR_SUCCESS.rawValue : MOSQ_ERR_ERRNO.rawValue
        }
        var code = MOSQ_ERR_SUCCESS.rawValue
        // Also when only writable: a TLS handshake that waits to write goes on in
        // mosquitto_loop_read (mosquitto_loop calls that handshake step when writable).
        if descriptor.revents & Int16(POLLIN | POLLOUT | POLLHUP | POLLERR) != 0 {
            // One packet per call: go on while the last call brought a message.
            for _ in 0..<Self.maxMessagesPerTurn {
                let before = received.load(ordering: .relaxed)
                code = mosquitto_loop_read(handle, 1)
                if code != MOSQ_ERR_SUCCESS.rawValue || received.load(ordering: .relaxed) == before { break }
            }
        }
        // Also after a read error: what arrived before it is taken. Its PUBACKs may never
        // be written; the broker then sends the messages again (seq de-duplicates them).
        if let batch = round.withLock({ $0.take() }) { submit(batch) }
        guard code == MOSQ_ERR_SUCCESS.rawValue else { return code }
        if mosquitto_want_write(handle) {
            code = mosquitto_loop_write(handle, 1)
            guard code == MOSQ_ERR_SUCCESS.rawValue else { return code }
        }
        return mosquitto_loop_misc(handle)
    }

    /// Most messages read in one turn before they are submitted and acknowledged (the
    /// MQTT 5 receive maximum, 100 by default, usually bounds a turn first).
    static let maxMessagesPerTurn = 1_024

    /// Most readings gathered into one submit (a larger message is submitted alone): one
    /// journal append per few thousand readings saves as much as one per turn, and the
    /// journal's write buffer and the queued batches stay small. Gathering up to the
    /// payload limit (100,000) cost W2 30 MiB more peak RSS.
    static let maxReadingsPerSubmit = 4_096

    private func connect() -> Int32 {
        let keepalive = Int32(max(5, configuration.keepalive.components.seconds))
        guard configuration.protocolVersion == .v5 else {
            return mosquitto_connect(handle, configuration.host, Int32(configuration.port), keepalive)
        }
        var properties: OpaquePointer? = nil
        let expiry = UInt32(clamping: configuration.sessionExpiry.components.seconds)
        mosquitto_property_add_int32(&properties, Int32(MQTT_PROP_SESSION_EXPIRY_INTERVAL.rawValue), expiry)
        // An MQTT 5 broker then never sends us a message larger than mqtt.max_payload (plus
        // 4 KiB for its topic and headers), so libmosquitto never buffers one; a 3.1.1
        // broker cannot be told, and didReceive refuses those.
        mosquitto_property_add_int32(&properties, Int32(MQTT_PROP_MAXIMUM_PACKET_SIZE.rawValue), UInt32(clamping: configuration.maxPacketBytes))
        defer { mosquitto_property_free_all(&properties) }
        return mosquitto_connect_bind_v5(handle, configuration.host, Int32(configuration.port), keepalive, nil, properties)
    }

    /// Sleeps up to `duration` in short steps so a stop request is honoured quickly.
    private func pause(_ duration: Duration) {
        let end = ContinuousClock.now + duration
        while !isStopping {
            let remaining = end - ContinuousClock.now
            guard remaining > .zero else { return }
            let (seconds, attoseconds) = remaining.components
            Thread.sleep(forTimeInterval: min(0.05, Double(seconds) + Double(attoseconds) * 1e-18))
        }
    }

    /// The problem libmosquitto logged since the last call, or `none`.
    private func takeProblem() -> String {
        lastProblem.withLock { problem in
            defer { problem = nil }
            return problem ?? "none"
        }
    }

    private static func errorText(_ code: Int32) -> String {
        if code == MOSQ_ERR_ERRNO.rawValue { return String(cString: strerror(errno)) }
        return String(cString: mosquitto_strerror(code))
    }

    // MARK: Callbacks (on the loop thread)

    private func didConnect(code: Int32) {
        guard code == 0 else {
            logger.error("broker refused the connection", metadata: ["reason": "\(MosquittoLibrary.refusalText(code))"])
            return
        }
        for topic in configuration.subscriptions {
            let result = mosquitto_subscribe(handle, nil, topic, Int32(configuration.qos))
            if result != MOSQ_ERR_SUCCESS.rawValue {
                logger.error("subscribing failed", metadata: ["topic": "\(topic)", "error": "\(Self.errorText(result))"])
            }
        }
        accepted.store(true, ordering: .releasing)
        setState(.connected)
        logger.info("connected to broker", metadata: [
            "broker": "\(configuration.host):\(configuration.port)", "topics": "\(configuration.subscriptions.joined(separator: ","))",
            "client_id": "\(configuration.clientID)",
        ])
    }

    private func didReceive(_ message: mosquitto_message) {
        received.add(1, ordering: .relaxed)
        let topicBytes = message.topic.map { UnsafeRawBufferPointer(start: $0, count: strlen($0)) } ?? UnsafeRawBufferPointer(start: nil, count: 0)
        // The whole topic as a `String` only for a refusal's log line.
        var topic: String { String(decoding: topicBytes, as: UTF8.self) }
        guard Int(message.payloadlen) <= configuration.maxPayloadBytes else {
            // The broker was told our maximum packet size (MQTT 5); a 3.1.1 broker was not.
            refuse(DecodeError(.tooLarge, index: nil, "payload of \(message.payloadlen) bytes is larger than mqtt.max_payload (\(configuration.maxPayloadBytes) bytes)"), topic: topic)
            return
        }
        let payload = UnsafeRawBufferPointer(start: message.payload, count: Int(max(0, message.payloadlen)))
        let route = TopicRoute(topic: topicBytes)
        let format: PayloadFormat
        do {
            format = try route.format(of: payload)
        } catch {
            refuse(error, topic: topic)
            return
        }
        let decoded = ingest.decode(payload, format: format, context: route.context(arrivalTime: WallClock.microseconds()))
        guard case .success(var batch) = decoded else {
            if case .failure(let error) = decoded { rejects.record(error, topic: topic) }
            return
        }
        if case .rejected(let error) = ingest.check(&batch) {
            rejects.record(error, topic: topic)
            return
        }
        if let earlier = round.withLock({ $0.add(batch) }) { submit(earlier) }
    }

    /// Submits the gathered readings of checked messages, blocking while the pipeline is full.
    private func submit(_ batch: PreparedBatch) {
        switch ingest.submitCheckedBlocking(batch) {
        case .accepted:
            break
        case .rejected(let error):
            // The messages' rules were checked one by one; the submit itself refuses nothing.
            rejects.record(error, topic: "(\(batch.readings.count) readings of several messages)")
        case .unavailable, .queueFull, .journalFailed:
            // Shutting down: end the connection before the acknowledgements are written,
            // so the broker never sees them and sends the messages to our next session.
            stopRequested.store(true, ordering: .releasing)
            shutdown(mosquitto_socket(handle), Int32(SHUT_RDWR))
            logger.notice("pipeline closed while messages arrived; left them to the broker", metadata: ["readings": "\(batch.readings.count)"])
        }
    }

    /// Counts and logs a payload refused before the ingest entry saw it.
    private func refuse(_ error: DecodeError, topic: String) {
        ingest.recordRejected(error.reason)
        rejects.record(error, topic: topic)
    }
}

extension IngestTransport {
    /// Messages from the broker.
    static let mqtt = IngestTransport("mqtt")
}

/// A configuration problem of the MQTT source.
public struct MQTTSourceError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
