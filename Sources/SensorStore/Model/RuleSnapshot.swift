public import SensorCore

/// Everything a rule engine starts from: positions by name, states by rule and series.
public struct RuleSnapshot: Sendable {
    public var positions: [String: Int64]
    public var states: [String: [SeriesKey: AlertState]]

    public init(positions: [String: Int64], states: [String: [SeriesKey: AlertState]]) {
        self.positions = positions
        self.states = states
    }
}
