public import Logging
public import MQTTIngest
public import SensorCore
internal import SensorStore
internal import Foundation
internal import Synchronization

/// The MQTT connection of rule actions and forwarding: its own client (`<client id>-out`,
/// so the ingest subscription's session is left alone) on the daemon's broker, with the
/// same credentials and TLS, connected on first use and reconnected by libmosquitto.
public final class MQTTSender: Sendable {
    private let publisher: MQTTPublisher
    private let host: String
    private let port: Int
    private let connected = Mutex(false)

    public init(host: String, port: Int, clientID: String, protocolVersion: MQTTSourceConfiguration.ProtocolVersion, security: MQTTSecurity) throws(MQTTSourceError) {
        publisher = try MQTTPublisher(clientID: clientID, protocolVersion: protocolVersion, security: security)
        self.host = host
        self.port = port
    }

    /// Publishes every delivery with QoS 1, in order, and waits until the broker
    /// acknowledged them all; false when cancelled first (the deliveries stay queued).
    func publish(_ deliveries: [Delivery], backoff: Backoff, logger: Logger) async -> Bool {
        guard await connect(backoff: backoff, logger: logger) else { return false }
        for delivery in deliveries {
            do {
                try publisher.publish(topic: delivery.topic ?? "", payload: Array(delivery.body.utf8), qos: 1)
            } catch {
                logger.error("cannot queue an MQTT delivery", metadata: ["topic": "\(delivery.topic ?? "")", "error": "\(error)"])
                return false
            }
        }
        while publisher.inFlight > 0 {
            guard (try? await Task.sleep(for: .milliseconds(2))) != nil else { return false }
        }
        return true
    }

    /// Connects once (the first time it is needed), retrying with backoff while the
    /// broker cannot be reached; later drops are reconnected by libmosquitto's thread.
    private func connect(backoff: Backoff, logger: Logger) async -> Bool {
        if connected.withLock({ $0 }) { return true }
        var failures = 0
        while !Task.isCancelled {
            let publisher = publisher, host = host, port = port
            // connect() waits for the CONNACK on its thread: keep it off the cooperative pool.
            let outcome: Result<Void, MQTTSourceError> = await withCheckedContinuation { continuation in
                Thread.detachNewThread {
                    continuation.resume(returning: Result { () throws(MQTTSourceError) in try publisher.connect(host: host, port: port) })
                }
            }
            switch outcome {
            case .success:
                connected.withLock { $0 = true }
                logger.info("connected to the MQTT broker for rule actions and forwarding", metadata: ["broker": "\(host):\(port)"])
                return true
            case .failure(let error):
                if failures == 0 { logger.warning("cannot connect to the MQTT broker for rule actions and forwarding, retrying", metadata: ["error": "\(error)"]) }
                guard (try? await Task.sleep(for: backoff.delay(afterFailures: failures))) != nil else { return false }
                failures += 1
            }
        }
        return false
    }

    func disconnect() {
        if connected.withLock({ $0 }) { publisher.disconnect() }
    }
}
