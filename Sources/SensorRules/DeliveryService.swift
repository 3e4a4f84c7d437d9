public import Logging
internal import MQTTIngest
public import SensorCore
public import SensorStore
public import ServiceLifecycle

/// Sends what rule evaluations queued in the store's outbox (CONTRACT §7): one worker per
/// channel (each webhook URL, and MQTT), each in queue order, so deliveries of a series
/// arrive in the order its transitions happened. A delivery is deleted only once its
/// target acknowledged it (a 2xx, a PUBACK); until then it is retried with capped
/// exponential backoff and jitter, across restarts, since the queue lives in the database.
/// Delivery is therefore at least once: a kill between the acknowledgement and the delete
/// sends that one delivery again after the restart.
public final class DeliveryService: Service, Sendable {
    private let store: any RuleStore
    /// The channels the configured rules and forwarding deliver to.
    private let channels: Set<String>
    private let webhooks: WebhookSender
    private let mqtt: MQTTSender?
    private let backoff: Backoff
    private let logger: Logger
    private let metrics = RuleMetrics()

    /// How often an idle worker looks for new deliveries.
    static let pollInterval: Duration = .milliseconds(100)

    /// - Parameter mqtt: how to reach the broker for MQTT actions and forwarding; nil when
    ///   MQTT is disabled (MQTT deliveries then wait, and are logged once).
    public init(store: any RuleStore, channels: Set<String>, webhookTimeout: Duration, backoff: Backoff, mqtt: MQTTSender?, logger: Logger) {
        self.store = store
        self.channels = channels
        self.webhooks = WebhookSender(timeout: webhookTimeout)
        self.mqtt = mqtt
        self.backoff = backoff
        self.logger = logger
    }

    /// Runs a worker per channel (the configured ones, and those an earlier run left
    /// deliveries for) until graceful shutdown; what is not delivered stays queued for the
    /// next start.
    public func run() async throws {
        var leftOver: [String]?
        while leftOver == nil, !Task.isCancelled {
            do {
                leftOver = try await store.deliveryChannels()
            } catch {
                logger.error("cannot read the outbox, retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
        await withDiscardingTaskGroup { group in
            for channel in channels.union(leftOver ?? []) {
                group.addTask { await self.work(channel) }
            }
            // Also without any channel, the service runs until the daemon stops.
            try? await gracefulShutdown()
            group.cancelAll()
        }
        mqtt?.disconnect()
    }

    /// Delivers `channel`'s queue in order, forever (until cancelled).
    private func work(_ channel: String) async {
        var after: Int64 = 0
        while !Task.isCancelled {
            let page: [Delivery]
            do {
                page = try await store.queuedDeliveries(channel: channel, after: after, limit: 500)
            } catch {
                try? await Task.sleep(for: .seconds(1))
                continue
            }
            guard !page.isEmpty else {
                try? await Task.sleep(for: Self.pollInterval)
                continue
            }
            let done = channel == Delivery.mqttChannel
                ? await publish(page)
                : await post(page, to: String(channel.dropFirst("webhook ".count)))
            if let done { after = done }
        }
    }

    /// POSTs each delivery in order, each retried until a 2xx and then forgotten at once
    /// (a restart resends at most the one in flight); the id of the last one delivered.
    private func post(_ page: [Delivery], to url: String) async -> Int64? {
        var last: Int64?
        for delivery in page {
            var failures = 0
            while true {
                let problem = await webhooks.post(delivery.body, to: url)
                guard let problem else { break }
                if Task.isCancelled { return last }
                metrics.failed(rule: delivery.rule, action: "webhook")
                if failures == 0 || failures.isMultiple(of: 10) {
                    logger.warning("webhook delivery failed, retrying", metadata: [
                        "rule": "\(delivery.rule)", "url": "\(url)", "error": "\(problem)", "attempts": "\(failures + 1)",
                    ])
                }
                do {
                    try await Task.sleep(for: backoff.delay(afterFailures: failures))
                } catch {
                    return last
                }
                failures += 1
            }
            metrics.delivered(rule: delivery.rule, action: "webhook")
            await forget([delivery])
            last = delivery.id
        }
        return last
    }

    /// Publishes the page with QoS 1 and waits for every PUBACK (libmosquitto resends
    /// what is in flight after a reconnect), then forgets it; the id of its last delivery,
    /// or nil when cancelled first. A message the MQTT client refuses outright (too large
    /// for the broker, a topic it cannot take) would be refused forever: it is dropped,
    /// logged and counted as a failure.
    private func publish(_ page: [Delivery]) async -> Int64? {
        guard let mqtt else {
            logger.error("deliveries wait for MQTT, which is disabled (mqtt.enabled=false)", metadata: ["queued": "\(page.count)"])
            try? await Task.sleep(for: .seconds(3_600))
            return nil
        }
        guard let refused = await mqtt.publish(page, backoff: backoff, logger: logger) else { return nil }
        for (delivery, problem) in refused {
            metrics.failed(rule: delivery.rule, action: "mqtt")
            logger.error("dropped an MQTT delivery the client refuses", metadata: [
                "rule": "\(delivery.rule)", "topic": "\(delivery.topic ?? "")", "error": "\(problem)",
            ])
        }
        let refusedIDs = Set(refused.compactMap(\.0.id))
        for (rule, count) in Dictionary(grouping: page.filter { !refusedIDs.contains($0.id ?? -1) }, by: \.rule).mapValues(\.count) {
            metrics.delivered(rule: rule, action: "mqtt", count: count)
        }
        await forget(page)
        return page.last?.id
    }

    private func forget(_ delivered: [Delivery]) async {
        let ids = delivered.compactMap(\.id)
        while true {
            do {
                try await store.deleteDeliveries(ids)
                metrics.queued.record(store.queuedDeliveryCount)
                return
            } catch {
                // Not forgetting means sending again after a restart; keep trying.
                logger.error("cannot delete delivered messages from the outbox, retrying", metadata: ["error": "\(error)"])
                guard (try? await Task.sleep(for: .seconds(1))) != nil else { return }
            }
        }
    }
}
