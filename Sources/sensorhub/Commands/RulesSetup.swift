import Logging
import MQTTIngest
import SensorConfig
import SensorCore
import SensorPipeline
import SensorRules
import SensorStore

/// Rules, alerts and forwarding as the settings describe them: the engine judging closed
/// windows after every flush, and the service delivering what it queued.
enum RulesSetup {
    /// Loads the rules' committed state, has the pipeline tell the engine of every flush,
    /// and returns the delivery service to run beside the pipeline (it also delivers what
    /// an earlier run left queued, with or without rules now).
    ///
    /// On a database several daemons share (`store.url`), only a daemon configured with
    /// rules or forwarding runs them: one without leaves the rules' state and outbox to
    /// that daemon (it neither prunes them nor delivers), and nil is returned.
    static func start(
        settings: Settings, mqtt: MQTTSourceConfiguration?, store: any RuleStore, pipeline: Pipeline, logger: Logger
    ) async throws -> DeliveryService? {
        if settings.store.url != nil {
            guard !settings.rules.isEmpty || settings.forward != nil else {
                logger.info("no rules or forwarding here; on a shared database they are run by the daemon configured with them")
                return nil
            }
            logger.warning("rules and forwarding run in this daemon: on a database several daemons share, configure them on one daemon only, or each sends the alerts and forwarded rows")
        }
        let alerts = settings.alerts
        let engine = RuleEngine(
            rules: settings.rules, forward: settings.forward, store: store, live: pipeline.live, lateness: alerts.lateness,
            maxQueued: alerts.maxQueued, keepResolved: alerts.keepResolved, logger: logger)
        do {
            // Also without rules: it forgets the states of rules no longer configured.
            try await engine.start()
        } catch {
            logger.critical("cannot read the rules' state", metadata: ["error": "\(error)"])
            throw CommandFailure.fail("cannot read the rules' state from \(StoreOpening.location(of: settings)): \(error)")
        }
        if await engine.isActive {
            await pipeline.observeFlushes(with: engine)
            logger.info("rules loaded", metadata: [
                "rules": "\(settings.rules.map(\.name).joined(separator: ","))",
                "forward": "\(settings.forward.map { "\($0.resolutions.map(\.description).joined(separator: ",")) to \($0.topic)" } ?? "none")",
            ])
        }
        var sender: MQTTSender?
        if let mqtt {
            do {
                sender = try MQTTSender(
                    host: mqtt.host, port: mqtt.port, clientID: String((mqtt.clientID + "-out").prefix(128)),
                    protocolVersion: mqtt.protocolVersion, security: mqtt.security)
            } catch {
                throw CommandFailure.fail("cannot create the MQTT client for rule actions: \(error)")
            }
        }
        var channels: Set<String> = settings.forward == nil ? [] : [Delivery.mqttChannel]
        for case .webhook(let url) in settings.rules.flatMap(\.actions) { channels.insert(Delivery.webhookChannel(url)) }
        if settings.rules.flatMap(\.actions).contains(where: { if case .mqtt = $0 { true } else { false } }) {
            channels.insert(Delivery.mqttChannel)
        }
        return DeliveryService(
            store: store, channels: channels, webhookTimeout: alerts.webhookTimeout,
            backoff: Backoff(minimum: alerts.retryMin, maximum: alerts.retryMax), mqtt: sender, logger: logger)
    }
}
