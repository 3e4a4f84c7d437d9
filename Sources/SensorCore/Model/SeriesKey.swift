/// A time series: one metric of one device.
public struct SeriesKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var device: String
    public var metric: String

    public init(device: String, metric: String) {
        self.device = device
        self.metric = metric
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
