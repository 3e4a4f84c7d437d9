internal import Metrics

/// The live feed's metrics: subscribers, updates dropped for slow ones, lagged notices sent.
struct LiveMetrics: Sendable {
    let subscribers = Gauge(label: "sensorhub_stream_subscribers")
    let droppedUpdates = Counter(label: "sensorhub_stream_dropped_updates_total")
    let laggedEvents = Counter(label: "sensorhub_stream_lagged_events_total")
}
