/// A time series: one metric of one device.
///
/// The hash of both names is taken once, when the key is made: a reading's series is
/// looked up in several tables on its way (series registry, seq windows at ingress and at
/// aggregation, pending buckets), and hashing the two strings at each lookup was about a
/// tenth of the daemon's CPU. The hash is `Hasher`'s, seeded per process like any other,
/// so clients cannot choose names that collide.
public struct SeriesKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let device: String
    public let metric: String
    private let hash: Int

    public init(device: String, metric: String) {
        self.device = device
        self.metric = metric
        var hasher = Hasher()
        hasher.combine(device)
        hasher.combine(metric)
        self.hash = hasher.finalize()
    }

    public static func == (lhs: SeriesKey, rhs: SeriesKey) -> Bool {
        lhs.hash == rhs.hash && lhs.device == rhs.device && lhs.metric == rhs.metric
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(hash)
    }

    public static func < (lhs: SeriesKey, rhs: SeriesKey) -> Bool {
        (lhs.device, lhs.metric) < (rhs.device, rhs.metric)
    }

    public var description: String { "\(device)/\(metric)" }

    /// A hash that is the same in every process (Swift's `Hasher` is seeded per process),
    /// so a series lands on the same shard across restarts: FNV-1a over device, 0, metric.
    public var stableHash: UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in device.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        hash = (hash ^ 0) &* 0x100_0000_01b3
        for byte in metric.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return hash
    }
}
