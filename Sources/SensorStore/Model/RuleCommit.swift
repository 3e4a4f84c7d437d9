internal import SensorCore

/// What one rule evaluation stores, committed by ``SensorStore/commitRules(_:maxQueued:)``
/// in one transaction: the states it changed, how far each rule and forwarded resolution
/// got, and the deliveries its transitions and closed buckets caused. A restart reads
/// back exactly what was committed, so it neither repeats nor loses a transition.
public struct RuleCommit: Sendable {
    /// New states per rule and series; a state not ``AlertState/isWorthKeeping`` is deleted.
    public var states: [RuleStateChange]
    /// Windows ending at or before these times (µs) were handled, per position name.
    public var positions: [String: Int64]
    /// Deliveries to queue, in order.
    public var deliveries: [Delivery]

    public init(states: [RuleStateChange] = [], positions: [String: Int64] = [:], deliveries: [Delivery] = []) {
        self.states = states
        self.positions = positions
        self.deliveries = deliveries
    }

    public var isEmpty: Bool { states.isEmpty && positions.isEmpty && deliveries.isEmpty }
}
