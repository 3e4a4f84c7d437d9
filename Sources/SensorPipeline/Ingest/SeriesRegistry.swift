internal import SensorCore
internal import Synchronization

/// Every series the daemon holds, so the series limits (``IngestLimits``) can be checked
/// before a reading is taken: without them, each name a client invents would grow the
/// series table, the stores' caches and every seq-window map for good.
///
/// Filled at start with the stored series. A batch registers its new series when it is
/// checked, before it is journaled: a batch then refused for other reasons (queue full,
/// shutdown) leaves them registered, which only counts them a little early against the
/// limit, never lets the limit be passed.
///
/// Thread-safety: one `Mutex`, taken once per batch. Cost per batch: one hash per run of
/// readings of the same series (readings of one series mostly come together).
final class SeriesRegistry: Sendable {
    private struct State {
        var series: Set<SeriesKey> = []
        var metricsPerDevice: [String: Int] = [:]
    }

    let limits: IngestLimits
    private let state = Mutex(State())

    init(limits: IngestLimits) {
        self.limits = limits
    }

    /// Series known so far.
    var count: Int { state.withLock { $0.series.count } }

    /// Registers the stored series (at start), whatever the limits.
    func load(_ stored: [SeriesKey]) {
        state.withLock { state in
            for series in stored where state.series.insert(series).inserted {
                state.metricsPerDevice[series.device, default: 0] += 1
            }
        }
    }

    /// Registers the series of `readings` that are new, or none of them: the error names
    /// the first reading whose series would pass `limits.max_series` or
    /// `limits.max_metrics_per_device`.
    func admit(_ readings: [Reading]) -> DecodeError? {
        state.withLock { state in
            var added: [SeriesKey] = []
            var previous: Reading?
            for (index, reading) in readings.enumerated() {
                if let previous, previous.metric == reading.metric, previous.device == reading.device { continue }
                previous = reading
                let series = reading.series
                guard !state.series.contains(series) else { continue }
                let metrics = state.metricsPerDevice[reading.device, default: 0]
                let refusal: DecodeError?
                if state.series.count >= limits.maxSeries {
                    refusal = DecodeError(.seriesLimit, index: index, "item \(index): series \(series) would be new, and the daemon already holds \(state.series.count) series (limits.max_series)")
                } else if metrics >= limits.maxMetricsPerDevice {
                    refusal = DecodeError(.seriesLimit, index: index, "item \(index): metric \"\(reading.metric)\" would be new, and device \"\(reading.device)\" already has \(metrics) metrics (limits.max_metrics_per_device)")
                } else {
                    refusal = nil
                }
                if let refusal {
                    for series in added { Self.forget(series, in: &state) }
                    return refusal
                }
                state.series.insert(series)
                state.metricsPerDevice[reading.device] = metrics + 1
                added.append(series)
            }
            return nil
        }
    }

    private static func forget(_ series: SeriesKey, in state: inout State) {
        state.series.remove(series)
        let left = (state.metricsPerDevice[series.device] ?? 1) - 1
        state.metricsPerDevice[series.device] = left > 0 ? left : nil
    }
}
