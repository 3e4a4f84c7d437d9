public import SensorCore

/// What ``SensorStore/aggregates(_:)`` returns: the series whose device and metric match
/// the globs, cut into windows of length `window` starting on multiples of `step`.
///
/// Windows are epoch-aligned and half-open, `[k·step, k·step + window)`; with `step` nil
/// they tumble (`step == window`). Every window lying wholly inside `[from, to)` that holds
/// data is returned; empty windows are omitted. `window` and `step` must each be a
/// multiple of a resolution the store keeps (``SQLiteStore/storedResolutions()``).
public struct AggregateQuery: Sendable, Equatable {
    /// SQLite GLOB pattern on the device (`*` any run, `?` one character); `*` = all.
    public var deviceGlob: String
    /// SQLite GLOB pattern on the metric; `*` = all.
    public var metricGlob: String
    public var window: Resolution
    /// Distance between window starts; nil = tumbling windows (`window`).
    public var step: Resolution?
    /// Inclusive lower bound in µs since the epoch; nil = unbounded.
    public var from: Int64?
    /// Exclusive upper bound in µs since the epoch; nil = unbounded.
    public var to: Int64?

    public init(
        deviceGlob: String = "*", metricGlob: String = "*", window: Resolution,
        step: Resolution? = nil, from: Int64? = nil, to: Int64? = nil
    ) {
        self.deviceGlob = deviceGlob
        self.metricGlob = metricGlob
        self.window = window
        self.step = step
        self.from = from
        self.to = to
    }

    /// The step actually used: `step`, or `window` for tumbling windows.
    public var effectiveStep: Resolution { step ?? window }

    /// `limits.max_query_rows`' default: most rows one answer may hold.
    public static let defaultRowLimit = 1_000_000
}
