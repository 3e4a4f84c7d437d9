internal import OrderedCollections
internal import SensorCore
internal import Synchronization

/// Every series the daemon holds, so the series limits (``IngestLimits``) can be checked
/// before a reading is taken: without them, each name a client invents would grow the
/// series table, the stores' caches and every seq-window map for good.
///
/// It also numbers the series (``SeriesSlot``): the series' hash taken here is the only
/// one a reading costs on its way to the pending buckets. Its shard, its seq window in
/// ingress and its pending buckets in the aggregator are then found by number.
///
/// Filled at start with the stored series. A batch registers its new series when it is
/// checked, before it is journaled: a batch then refused for other reasons (queue full,
/// shutdown) leaves them registered, which only counts them a little early against the
/// limit, never lets the limit be passed.
///
/// Thread-safety: one `Mutex`, taken once per batch. Cost per batch: one hash per run of
/// readings of the same series (readings of one series mostly come together).
final class SeriesRegistry: Sendable {
    private struct State {
        /// An ordered dictionary, for its size: its keys and slots are two arrays, indexed
        /// by a hash table of as few bits a slot as the count needs, where a `Dictionary`
        /// keeps each (key, slot) in its own table of 40-byte slots up to 3/4 full (100,000
        /// series: 262,144 slots, 10.5 MB).
        var slots: OrderedDictionary<SeriesKey, SeriesSlot> = [:]
        /// Ordered for its size too (25,000 devices: 1.6 MB as a `Dictionary`).
        var metricsPerDevice: OrderedDictionary<String, Int32> = [:]
        /// By shard and series number: the series' place in `slots` (``key(of:)``). Its
        /// count is the number the next new series of that shard takes.
        var places: [[Int32]]
    }

    let limits: IngestLimits
    /// How many shards the series are hashed to (``SeriesKey/stableHash``).
    let shardCount: Int
    private let state: Mutex<State>

    init(limits: IngestLimits, shardCount: Int) {
        self.limits = limits
        self.shardCount = shardCount
        self.state = Mutex(State(places: Array(repeating: [], count: shardCount)))
    }

    /// Series known so far.
    var count: Int { state.withLock { $0.slots.count } }

    /// The series registered at `slot`: pending buckets keep only numbers (``SeriesNames``),
    /// and so does a flush's seq window of a series with nothing pending (``TakenWindows``).
    /// A number is given back only by the refused batch that took it, before any of its
    /// readings was journaled, so a number anything holds keeps its series.
    func key(of slot: SeriesSlot) -> SeriesKey {
        state.withLock { Self.key(ofNumber: slot.index, shard: Int(slot.shard), in: $0) }
    }

    /// The keys of the series of `shard` numbered `numbers` (``SeriesSlot/index``), in
    /// their order, under one lock (``SeriesNames/keys(of:)``).
    func keys(of numbers: [Int32], shard: Int) -> [SeriesKey] {
        state.withLock { state in numbers.map { Self.key(ofNumber: $0, shard: shard, in: state) } }
    }

    private static func key(ofNumber number: Int32, shard: Int, in state: State) -> SeriesKey {
        state.slots.keys[Int(state.places[shard][Int(number)])]
    }

    /// Registers the stored series (at start), whatever the limits; returns their slots.
    @discardableResult
    func load(_ stored: [SeriesKey]) -> [SeriesSlot] {
        state.withLock { state in stored.map { register($0, in: &state) } }
    }

    /// The slot of each reading's series, registering those that are new whatever the
    /// limits: for readings taken before (the journal's, at recovery).
    func register(_ readings: [Reading]) -> [SeriesSlot] {
        state.withLock { state in
            readings.map { register($0.series, in: &state) }
        }
    }

    /// The slot of `series`, registering it whatever the limits (a stored seq window's).
    func register(_ series: SeriesKey) -> SeriesSlot {
        state.withLock { register(series, in: &$0) }
    }

    /// The slot of each reading's series, registering those that are new; or, registering
    /// none of them, the error naming the first reading whose series would pass
    /// `limits.max_series` or `limits.max_metrics_per_device`.
    func admit(_ readings: [Reading]) -> Result<[SeriesSlot], DecodeError> {
        state.withLock { state in
            var slots: [SeriesSlot] = []
            slots.reserveCapacity(readings.count)
            var added: [SeriesKey] = []
            for (index, reading) in readings.enumerated() {
                // Compared in place: holding the previous reading copied it (and retained
                // its names) for every reading.
                if index > 0, readings[index - 1].metric == reading.metric, readings[index - 1].device == reading.device {
                    slots.append(slots[index - 1])
                    continue
                }
                let series = reading.series
                if let slot = state.slots[series] {
                    slots.append(slot)
                    continue
                }
                let metrics = Int(state.metricsPerDevice[reading.device, default: 0])
                let refusal: DecodeError?
                if state.slots.count >= limits.maxSeries {
                    refusal = DecodeError(.seriesLimit, index: index, "item \(index): series \(series) would be new, and the daemon already holds \(state.slots.count) series (limits.max_series)")
                } else if metrics >= limits.maxMetricsPerDevice {
                    refusal = DecodeError(.seriesLimit, index: index, "item \(index): metric \"\(reading.metric)\" would be new, and device \"\(reading.device)\" already has \(metrics) metrics (limits.max_metrics_per_device)")
                } else {
                    refusal = nil
                }
                if let refusal {
                    // The numbers this batch took were the last ones of their shards: they
                    // are given back, so refused names never grow what is indexed by number.
                    // Newest first: each is then the last of `slots`, taken out in place.
                    for series in added.reversed() { Self.forget(series, in: &state) }
                    return .failure(refusal)
                }
                slots.append(register(series, in: &state))
                added.append(series)
            }
            return .success(slots)
        }
    }

    private func register(_ series: SeriesKey, in state: inout State) -> SeriesSlot {
        if let slot = state.slots[series] { return slot }
        let shard = Int(series.stableHash % UInt64(shardCount))
        let slot = SeriesSlot(index: Int32(state.places[shard].count), shard: Int32(shard))
        state.places[shard].append(Int32(state.slots.count))
        state.slots[series] = slot
        state.metricsPerDevice[series.device, default: 0] += 1
        return slot
    }

    /// Unregisters the series the last registration added (a refused batch's).
    private static func forget(_ series: SeriesKey, in state: inout State) {
        if let slot = state.slots.removeValue(forKey: series) { state.places[Int(slot.shard)].removeLast() }
        let left = (state.metricsPerDevice[series.device] ?? 1) - 1
        if left > 0 {
            state.metricsPerDevice[series.device] = left
        } else {
            // The device came with the refused batch, and its first series there is
            // forgotten after those of every device that came later: it is the last
            // device, taken out in place.
            state.metricsPerDevice.removeValue(forKey: series.device)
        }
    }
}

/// A registered series as the pipeline finds it: its shard, and its number within the
/// shard (0, 1, … in the order the shard's series became known since start; a number
/// handed out is never reused), so what a shard keeps by number is as long as its own
/// series.
struct SeriesSlot: Sendable, Equatable {
    var index: Int32
    var shard: Int32
}
