internal import SensorCore

/// A reading as a shard's queue holds it: its series by number (``SeriesSlot/index``), not
/// by name. The journal record already holds the names, and the registry gives them back
/// (``SeriesNames``) to the few who need them.
///
/// 32 bytes, where a `Reading` (two strings) and its series' number took 68: what a backlog
/// holds in the queues (131,072 readings by default) is the most memory a
/// burst of many series takes besides their pending buckets (12 MB at the peak of the
/// 100,000-series run of 1,600,000 readings in heaptrack).
public struct QueuedReading: Sendable, Equatable {
    public var timestamp: Int64
    public var value: Double
    public var seq: UInt64?
    /// The series' number.
    var series: Int32

    init(_ reading: Reading, series: Int32) {
        self.timestamp = reading.timestamp
        self.value = reading.value
        self.seq = reading.seq
        self.series = series
    }

    /// The reading, its series named by `names`.
    func reading(named names: SeriesNames) -> Reading {
        let key = names.key(of: series)
        return Reading(device: key.device, metric: key.metric, value: value, timestamp: timestamp, seq: seq)
    }
}
