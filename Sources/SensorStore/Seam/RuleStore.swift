public import SensorCore

/// What the rule engine and the delivery service keep in the store (CONTRACT §7): alert
/// states and positions committed together with the deliveries they cause, and the
/// outbox those deliveries wait in until their target acknowledges them.
public protocol RuleStore: AggregateReader {
    /// The committed positions and states.
    func ruleSnapshot() async throws(StoreError) -> RuleSnapshot

    /// Commits the states, positions and deliveries of one evaluation in one transaction;
    /// keeps at most `maxQueued` deliveries, dropping the oldest. Returns the deliveries
    /// queued (with their ids) and how many were dropped.
    func commitRules(_ commit: RuleCommit, maxQueued: Int) async throws(StoreError) -> (queued: [Delivery], dropped: Int)

    /// Drops the positions and states of rules no longer configured (names not in `keep`,
    /// states of rules not in `rules`) and resolved alerts older than `resolvedBefore` (µs).
    func pruneRules(keeping keep: Set<String>, rules: Set<String>, resolvedBefore: Int64) async throws(StoreError)

    /// Last event time (µs) of every stored series matching the globs.
    func lastSeen(deviceGlob: String, metricGlob: String) async throws(StoreError) -> [(series: SeriesKey, lastSeen: Int64)]

    /// Deliveries waiting in the outbox.
    var queuedDeliveryCount: Int { get }

    /// The channels that have deliveries waiting.
    func deliveryChannels() async throws(StoreError) -> [String]

    /// Up to `limit` deliveries of `channel` with an id above `after`, oldest first.
    func queuedDeliveries(channel: String, after: Int64, limit: Int) async throws(StoreError) -> [Delivery]

    /// Removes delivered (or given-up) deliveries.
    func deleteDeliveries(_ ids: [Int64]) async throws(StoreError)
}
