import CoreMetrics
import Synchronization

/// A swift-metrics backend that keeps only what the flusher reports: the durations it
/// records in `sensorhub_flush_duration_seconds` (the `SQLiteStore.write` of each
/// successful flush) and the increments of `sensorhub_flush_failures_total`. The
/// end-to-end benchmark reads the final flush and the failed flushes from it, without any
/// change to the pipeline. Every other metric goes to the no-op handler.
///
/// Bootstrapped once per process (`MetricsSystem.bootstrap` may only run once) before any
/// pipeline exists: swift-metrics binds a metric to the factory when the metric is created.
final class FlushProbe: MetricsFactory {
    static let shared = FlushProbe()
    private static let bootstrapped = Mutex(false)

    private struct Record {
        /// Write durations in nanoseconds, in the order the flusher recorded them.
        var durations: [Int64] = []
        var failures: Int64 = 0
    }
    private let record = Mutex(Record())

    static func bootstrapOnce() {
        bootstrapped.withLock { done in
            guard !done else { return }
            MetricsSystem.bootstrap(shared)
            done = true
        }
    }

    /// Forgets what earlier runs recorded.
    func reset() { record.withLock { $0 = Record() } }

    /// Durations of the successful flush writes since the last ``reset()``.
    var flushWrites: [Int64] { record.withLock { $0.durations } }

    /// Flushes that failed since the last ``reset()`` (their buckets are carried to the next).
    var failedFlushes: Int64 { record.withLock { $0.failures } }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        label == "sensorhub_flush_duration_seconds" ? FlushTimer(probe: self) : NOOPMetricsHandler.instance
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        label == "sensorhub_flush_failures_total" ? FailureCounter(probe: self) : NOOPMetricsHandler.instance
    }

    fileprivate func recordWrite(_ nanoseconds: Int64) { record.withLock { $0.durations.append(nanoseconds) } }
    fileprivate func recordFailures(_ count: Int64) { record.withLock { $0.failures += count } }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        NOOPMetricsHandler.instance
    }
    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler { NOOPMetricsHandler.instance }
    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        NOOPMetricsHandler.instance
    }
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyMeter(_ handler: any MeterHandler) {}
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}
}

private final class FlushTimer: TimerHandler {
    let probe: FlushProbe
    init(probe: FlushProbe) { self.probe = probe }
    func recordNanoseconds(_ duration: Int64) { probe.recordWrite(duration) }
}

private final class FailureCounter: CounterHandler {
    let probe: FlushProbe
    init(probe: FlushProbe) { self.probe = probe }
    func increment(by amount: Int64) { probe.recordFailures(amount) }
    func reset() {}
}
