public import SensorCore

/// How the pipeline is shaped: shards, queue bound, resolutions and flush cadence.
public struct PipelineConfiguration: Sendable {
    /// Number of shards (queue + worker each); series are hashed onto them.
    public var shards: Int
    /// Bound of each shard's queue, in readings.
    public var queueCapacity: Int
    /// Resolutions every reading is bucketed at, finest first.
    public var resolutions: [Resolution]
    /// Time between two flushes of the pending buckets to the store.
    public var flushInterval: Duration
    /// Pending buckets (all shards) that trigger a flush before the interval is up, so a
    /// burst of backlog readings spread over many windows cannot grow memory unboundedly.
    /// Not lower than it needs to be: each early flush rewrites the chunks it touches
    /// (`maxPendingBytes` is the memory bound).
    public var maxPendingBuckets: Int
    /// Bytes those pending buckets may hold (all shards) before a flush comes early: the
    /// memory bound whatever the sketches hold.
    public var maxPendingBytes: Int
    /// Tests only: every flush waits this long before writing, so a test can slow the
    /// flusher down and watch backpressure reach the producers. Zero in production.
    public var flushDelay: Duration
    /// Which event times are taken, and how long each resolution's buckets are kept.
    public var timeRules: TimeRules
    /// Time between two retention passes.
    public var retentionInterval: Duration
    /// Bucket updates buffered per live subscriber before its oldest are dropped.
    public var liveBufferCapacity: Int
    /// Most live subscribers at once.
    public var maxLiveSubscribers: Int
    /// What one client may make the daemon hold.
    public var limits: IngestLimits

    public init(shards: Int, queueCapacity: Int, resolutions: [Resolution], flushInterval: Duration, maxPendingBuckets: Int = 1_000_000, maxPendingBytes: Int = 256 << 20, flushDelay: Duration = .zero, timeRules: TimeRules? = nil, retentionInterval: Duration = .seconds(60), liveBufferCapacity: Int = 4_096, maxLiveSubscribers: Int = 64, limits: IngestLimits = IngestLimits()) {
        self.limits = limits
        self.flushDelay = flushDelay
        self.retentionInterval = retentionInterval
        self.liveBufferCapacity = max(1, liveBufferCapacity)
        self.maxLiveSubscribers = max(1, maxLiveSubscribers)
        let sorted = Array(Set(resolutions)).sorted()
        self.timeRules = timeRules ?? TimeRules(
            maxFutureSkew: .seconds(300),
            retention: Dictionary(uniqueKeysWithValues: sorted.map { ($0, $0.defaultRetention) }))
        self.shards = max(1, shards)
        self.queueCapacity = max(1, queueCapacity)
        self.resolutions = Array(Set(resolutions)).sorted()
        self.flushInterval = flushInterval
        self.maxPendingBuckets = max(1, maxPendingBuckets)
        self.maxPendingBytes = max(1, maxPendingBytes)
    }
}
