/// Reconnect delays: doubling from `minimum` up to `maximum`, with "equal jitter" (a
/// random point in the upper half of the step), so a fleet of daemons restarted together
/// does not reconnect in lockstep.
struct Backoff: Sendable {
    let minimum: Duration
    let maximum: Duration

    func delay(afterFailures failures: Int) -> Duration {
        let factor = 1 << min(failures, 20)
        let step = min(minimum * factor, maximum)
        let jitter = Double.random(in: 0.5...1.0)
        return step * jitter
    }
}
