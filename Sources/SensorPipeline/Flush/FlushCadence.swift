/// When the timer asks for a flush: once a flush interval has passed since the last one,
/// and sooner after a burst, once ingest has gone quiet.
///
/// Quiet means no reading was applied for a whole ``tick`` (50 ms) after some were; a
/// burst is at least ``burst`` readings (1,000) since the last flush, or the readings
/// after a flush that took a burst: a burst that paused for a tick was flushed then, and
/// its tail, however short, is part of it. A burst that ended is then visible to queries
/// within about 50 ms instead of up to an interval later.
/// Steady traffic never looks quiet and keeps the interval's cadence, so the store is not
/// written more often under load; a small fleet's trickle is no burst, so it keeps the
/// cadence too (a commit is a disk sync, and flash on small boards wears). Quiet flushes
/// are at least a tenth of the interval apart. A shard over its pending limit asks for a
/// flush on its own.
struct FlushCadence {
    typealias Instant = ContinuousClock.Instant

    /// Readings since the last flush that make a burst worth an early flush.
    static let burst = 1_000

    let interval: Duration
    /// How often the timer looks for quiet, and the silence that counts as quiet.
    let tick: Duration
    /// The least time between a flush and a quiet flush after it.
    let spacing: Duration
    private var lastFlush: Instant
    /// Readings applied (all shards) as of the last look and as of the last flush.
    private var appliedAtLastLook: Int
    private var appliedAtLastFlush: Int
    /// Whether the last flush took a burst (``burst`` readings or more). Only such a
    /// flush makes the readings after it a tail: a tail's own flush does not, so a trickle
    /// after a burst goes back to the interval's cadence.
    private var lastFlushTookBurst = false

    init(interval: Duration, start: Instant, applied: Int = 0) {
        self.interval = interval
        self.tick = min(interval, .milliseconds(50))
        self.spacing = interval / 10
        self.lastFlush = start
        self.appliedAtLastLook = applied
        self.appliedAtLastFlush = applied
    }

    /// When to look next: the next tick, or the interval's end if that is sooner.
    func nextLook(after now: Instant) -> Instant {
        min(now + tick, lastFlush + interval)
    }

    /// Whether to flush now, given how many readings the shards applied so far.
    mutating func shouldFlush(at now: Instant, applied: Int) -> Bool {
        defer { appliedAtLastLook = applied }
        let due = now >= lastFlush + interval
        let sinceFlush = applied - appliedAtLastFlush
        let inBurst = sinceFlush >= Self.burst || (lastFlushTookBurst && sinceFlush > 0)
        let quietAfterBurst = applied == appliedAtLastLook && inBurst && now >= lastFlush + spacing
        guard due || quietAfterBurst else { return false }
        lastFlush = now
        appliedAtLastFlush = applied
        lastFlushTookBurst = sinceFlush >= Self.burst
        return true
    }
}
