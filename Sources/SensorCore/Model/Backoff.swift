/// Reconnect delays: doubling from `minimum` up to `maximum`, with "equal jitter" (a
/// random point in the upper half of the step), so a fleet of daemons restarted together
/// does not reconnect in lockstep. Used by the MQTT source and by `sensorhub tail`.
public struct Backoff: Sendable {
    public let minimum: Duration
    public let maximum: Duration

    public init(minimum: Duration, maximum: Duration) {
        self.minimum = minimum
        self.maximum = maximum
    }

    /// The pause after `failures` consecutive failed attempts (0 for the first retry).
    public func delay(afterFailures failures: Int) -> Duration {
        let factor = 1 << min(failures, 20)
        let step = min(minimum * factor, maximum)
        let jitter = Double.random(in: 0.5...1.0)
        return step * jitter
    }
}
