/// One entry of the config file's `rules:` (CONTRACT §7): which series it watches, the
/// condition that makes it fire, and what to do on each transition.
///
/// A threshold rule judges every closed window of its resolution: it fires once its
/// statistic met the comparison in `windows` consecutive closed windows of a series, and
/// resolves at the first closed window of that series that does not meet it. An absent
/// rule fires when a series matching it sent nothing for its duration, and resolves when
/// it is heard from again.
public struct AlertRule: Sendable, Equatable {
    public enum Condition: Sendable, Equatable {
        case threshold(Threshold)
        case absent(Duration)
    }

    /// `stat op threshold` on windows of `resolution`, `windows` in a row (`for`).
    public struct Threshold: Sendable, Equatable {
        public var resolution: Resolution
        public var statistic: AlertStatistic
        public var comparison: Comparison
        public var value: Double
        public var windows: Int

        public init(resolution: Resolution, statistic: AlertStatistic, comparison: Comparison, value: Double, windows: Int = 1) {
            self.resolution = resolution
            self.statistic = statistic
            self.comparison = comparison
            self.value = value
            self.windows = windows
        }

        /// Whether a window's row meets the condition; a statistic the row does not have
        /// (percentiles of buckets stored before sketches) does not.
        public func isMet(by record: AggregateRecord) -> Bool {
            guard let observed = statistic.value(in: record) else { return false }
            return comparison.holds(observed, value)
        }
    }

    public var name: String
    public var device: NameGlob
    public var metric: NameGlob
    public var condition: Condition
    public var actions: [AlertAction]

    public init(name: String, device: NameGlob = .any, metric: NameGlob = .any, condition: Condition, actions: [AlertAction] = []) {
        self.name = name
        self.device = device
        self.metric = metric
        self.condition = condition
        self.actions = actions
    }
}
