public import SensorCore

/// A rule's new state for one series.
public struct RuleStateChange: Sendable {
    public var rule: String
    public var series: SeriesKey
    public var state: AlertState

    public init(rule: String, series: SeriesKey, state: AlertState) {
        self.rule = rule
        self.series = series
        self.state = state
    }
}
