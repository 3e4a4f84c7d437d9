/// Pauses between attempts to reach the live stream: `base` (0.5 s, or the stream's own
/// `retry:` hint) doubling per failed attempt up to `maximum` (5 s), back to `base` once a
/// connection succeeds. No jitter: one CLI, not a fleet.
struct ReconnectDelay {
    let maximum: Duration
    private(set) var base: Duration
    private var next: Duration

    init(base: Duration = .milliseconds(500), maximum: Duration = .seconds(5)) {
        self.maximum = maximum
        self.base = min(base, maximum)
        next = self.base
    }

    /// The pause before the coming attempt; the one after it is twice as long (capped).
    mutating func advance() -> Duration {
        let current = next
        next = min(next * 2, maximum)
        return current
    }

    /// A connection succeeded: the next outage starts again from `base`.
    mutating func reset() {
        next = base
    }

    /// Adopts the server's `retry:` hint as the base (capped at `maximum`).
    mutating func prefer(_ delay: Duration) {
        base = min(max(delay, .zero), maximum)
        next = base
    }
}
