internal import Metrics

/// The counters of rules, alerts and deliveries in /metrics:
/// - `sensorhub_alert_transitions_total{rule,state}`: fired (`firing`) and `resolved`;
/// - `sensorhub_alerts_firing{rule}`: series a rule fires for now;
/// - `sensorhub_rule_evaluation_seconds`: one evaluation after a flush (every rule and
///   forwarded resolution), a histogram;
/// - `sensorhub_rule_evaluation_failures_total`: evaluations the store refused (retried);
/// - `sensorhub_forwarded_buckets_total{resolution}`: closed buckets queued for forwarding;
/// - `sensorhub_deliveries_total{rule,action}` and `sensorhub_delivery_failures_total{rule,action}`:
///   deliveries their target acknowledged, and failed tries (each is retried);
/// - `sensorhub_deliveries_queued`: deliveries waiting in the database;
/// - `sensorhub_deliveries_dropped_total`: the oldest deliveries dropped past `alerts.max_queued`.
struct RuleMetrics: Sendable {
    let evaluationFailures = Counter(label: "sensorhub_rule_evaluation_failures_total")
    let evaluationDuration = Timer(label: "sensorhub_rule_evaluation_seconds")
    let queued = Gauge(label: "sensorhub_deliveries_queued")
    let dropped = Counter(label: "sensorhub_deliveries_dropped_total")

    func transition(rule: String, firing: Bool) {
        Counter(label: "sensorhub_alert_transitions_total", dimensions: [("rule", rule), ("state", firing ? "firing" : "resolved")]).increment()
    }

    func firing(rule: String, count: Int) {
        Gauge(label: "sensorhub_alerts_firing", dimensions: [("rule", rule)]).record(count)
    }

    func forwarded(resolution: String, count: Int) {
        Counter(label: "sensorhub_forwarded_buckets_total", dimensions: [("resolution", resolution)]).increment(by: count)
    }

    func delivered(rule: String, action: String, count: Int = 1) {
        Counter(label: "sensorhub_deliveries_total", dimensions: [("rule", rule), ("action", action)]).increment(by: count)
    }

    func failed(rule: String, action: String) {
        Counter(label: "sensorhub_delivery_failures_total", dimensions: [("rule", rule), ("action", action)]).increment()
    }
}
