internal import Logging
public import MQTTIngest
internal import SensorCore
internal import SensorStore
internal import Foundation
internal import Synchronization

/// The MQTT connection of rule actions and forwarding: its own client (`<client id>-out`,
/// so the ingest subscription's session is left alone) on the daemon's broker, with the
/// same credentials and TLS, connected on first use and from then on reconnected by
/// libmosquitto's network thread.
public final class MQTTSender: Sendable {
    private let publisher: MQTTPublisher
    private let host: String
    private let port: Int

    public init(host: String, port: Int, clientID: String, protocolVersion: MQTTSourceConfiguration.ProtocolVersion, security: MQTTSecurity) throws(MQTTSourceError) {
        publisher = try MQTTPublisher(clientID: clientID, protocolVersion: protocolVersion, security: security)
        self.host = host
        self.port = port
    }

    /// Publishes every delivery with QoS 1, in order, and waits until the broker
    /// acknowledged all it took. Returns those the client refused outright, with why
    /// (sending them again would fail again), or nil when cancelled first (nothing may be
    /// forgotten then).
    func publish(_ deliveries: [Delivery], backoff: Backoff, logger: Logger) async -> [(Delivery, String)]? {
        guard await connect(backoff: backoff, logger: logger) else { return nil }
        var refused: [(Delivery, String)] = []
        for delivery in deliveries {
            do {
                try publisher.publish(topic: delivery.topic ?? "", payload: Array(delivery.body.utf8), qos: 1)
            } catch {
                refused.append((delivery, error.description))
            }
        }
        while publisher.inFlight > 0 {
            guard (try? await Task.sleep(for: .milliseconds(2))) != nil else { return nil }
        }
        return refused
    }

    /// Connects (the first time it is needed), retrying with backoff while the broker
    /// cannot be reached. Once libmosquitto's thread runs it reconnects by itself, and
    /// messages queued meanwhile wait in it. Each try runs on a thread of its own (it
    /// waits for the CONNACK), which cancellation does not wait for.
    private func connect(backoff: Backoff, logger: Logger) async -> Bool {
        var failures = 0
        while !publisher.isStarted {
            let publisher = publisher, host = host, port = port
            let attempt = OnceContinuation<Result<Void, MQTTSourceError>?>()
            let outcome = await withTaskCancellationHandler {
                await withCheckedContinuation { continuation in
                    attempt.set(continuation)
                    Thread.detachNewThread {
                        attempt.resume(Result { () throws(MQTTSourceError) in try publisher.connect(host: host, port: port) })
                    }
                }
            } onCancel: {
                attempt.resume(nil)
            }
            switch outcome {
            case nil:
                return false
            case .success?:
                logger.info("connected to the MQTT broker for rule actions and forwarding", metadata: ["broker": "\(host):\(port)"])
                return true
            case .failure(let error)?:
                if failures == 0 {
                    logger.warning("cannot connect to the MQTT broker for rule actions and forwarding, retrying", metadata: ["error": "\(error)"])
                }
                guard (try? await Task.sleep(for: backoff.delay(afterFailures: failures))) != nil else { return false }
                failures += 1
            }
        }
        return !Task.isCancelled
    }

    func disconnect() {
        if publisher.isStarted { publisher.disconnect() }
    }
}

/// A continuation resumed by whichever comes first: the work's thread or cancellation
/// (which may come before the continuation exists; it is then resumed as soon as it does).
private final class OnceContinuation<Value: Sendable>: Sendable {
    private enum State {
        case waitingForContinuation
        case waiting(CheckedContinuation<Value, Never>)
        case resumedEarly(Value)
        case done
    }

    private let state = Mutex(State.waitingForContinuation)

    func set(_ continuation: CheckedContinuation<Value, Never>) {
        let early = state.withLock { state -> Value? in
            guard case .resumedEarly(let value) = state else {
                state = .waiting(continuation)
                return nil
            }
            state = .done
            return value
        }
        if let early { continuation.resume(returning: early) }
    }

    func resume(_ value: Value) {
        let continuation = state.withLock { state -> CheckedContinuation<Value, Never>? in
            switch state {
            case .waitingForContinuation:
                state = .resumedEarly(value)
                return nil
            case .waiting(let continuation):
                state = .done
                return continuation
            case .resumedEarly, .done:
                return nil
            }
        }
        continuation?.resume(returning: value)
    }
}
