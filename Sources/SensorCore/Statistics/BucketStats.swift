/// Mergeable summary of the readings in one bucket: count, sum, min, max, mean and M2
/// (sum of squared deviations from the mean, Welford), plus first and last by event time.
///
/// `add` is Welford's update and `merge` is Chan et al.'s parallel combination, so the
/// variance stays accurate for values far from zero (around 1e9) where the naive
/// sum-of-squares formula cancels catastrophically. Merging is associative and, thanks to
/// the deterministic tie-break on equal event times (smaller value is `first`, larger is
/// `last`), commutative too: coarser windows, late readings and query-time merges give the
/// same result whatever the order. The quantile sketch (``QuantileSketch``) merges exactly
/// too. Hot path: `add` is a handful of flops, a logarithm and a bin increment.
public struct BucketStats: Sendable, Equatable {
    public private(set) var count: Int64
    public private(set) var sum: Double
    public private(set) var min: Double
    public private(set) var max: Double
    public private(set) var mean: Double
    /// Sum of squared deviations from the mean.
    public private(set) var m2: Double
    /// Event time (µs) and value of the earliest reading.
    public private(set) var firstTimestamp: Int64
    public private(set) var first: Double
    /// Event time (µs) and value of the latest reading.
    public private(set) var lastTimestamp: Int64
    public private(set) var last: Double
    /// The distribution of the values, for percentiles within 1%.
    public private(set) var sketch: QuantileSketch

    /// An empty bucket; the identity of `merge`.
    public init() {
        count = 0
        sum = 0
        min = .infinity
        max = -.infinity
        mean = 0
        m2 = 0
        firstTimestamp = .max
        first = .nan
        lastTimestamp = .min
        last = .nan
        sketch = QuantileSketch()
    }

    /// Rebuilds stored stats (from SQLite); the caller vouches for their consistency.
    public init(
        count: Int64, sum: Double, min: Double, max: Double, mean: Double, m2: Double,
        firstTimestamp: Int64, first: Double, lastTimestamp: Int64, last: Double,
        sketch: QuantileSketch = .empty
    ) {
        self.count = count
        self.sum = sum
        self.min = min
        self.max = max
        self.mean = mean
        self.m2 = m2
        self.firstTimestamp = firstTimestamp
        self.first = first
        self.lastTimestamp = lastTimestamp
        self.last = last
        self.sketch = sketch
    }

    public var isEmpty: Bool { count == 0 }

    /// About how many bytes one bucket holds in memory: its scalars and the sketch's bins.
    public var footprint: Int { Self.baseFootprint + 8 * sketch.storedBins }

    /// The bytes of a bucket before its sketch's heap bins: its fields, the first bins
    /// of each store among them (``SparseBins``).
    public static let baseFootprint = MemoryLayout<BucketStats>.stride

    /// Population variance (M2 / n); 0 for an empty bucket.
    public var variance: Double { count > 0 ? Swift.max(0, m2 / Double(count)) : 0 }

    /// Population standard deviation.
    public var stddev: Double { variance.squareRoot() }

    /// p50, p90, p95 and p99 within 1%, or nil when the sketch does not cover every
    /// reading of the bucket (buckets written before sketches existed): a percentile of
    /// part of the data is never passed off as one of all of it.
    public var percentiles: Percentiles? {
        guard count > 0, sketch.count == UInt64(count) else { return nil }
        return sketch.percentiles(clampedTo: min...max)
    }

    /// The same stats without the sketch (nothing else changes): for merges that only need
    /// the other fields, at the cost of a few scalars instead of the bins.
    public var withoutSketch: BucketStats { with(sketch: .empty) }

    /// The same stats with `sketch` (a stored bucket's, read apart from its scalars).
    public func with(sketch: QuantileSketch) -> BucketStats {
        var copy = self
        copy.sketch = sketch
        return copy
    }

    /// Adds one reading (Welford's online update).
    @inline(__always)
    public mutating func add(_ value: Double, at timestamp: Int64) {
        add(value, at: timestamp, bin: QuantileSketch.Bin(value))
    }

    /// Adds one reading whose sketch bin is already known (`QuantileSketch.Bin(value)`),
    /// so a reading bucketed at several resolutions takes the logarithm once. Returns how
    /// much the sketch's ``QuantileSketch/storedBins`` changed (see ``footprint``).
    @inline(__always) @discardableResult
    public mutating func add(_ value: Double, at timestamp: Int64, bin: QuantileSketch.Bin) -> Int {
        addToScalars(value, at: timestamp)
        return sketch.add(bin)
    }

    /// Whether adding `first`, then `second`, to an empty bucket gives exactly this one,
    /// sketch included: what a chunk checks before it keeps a bucket as its readings.
    /// Decided without building that bucket's sketch, which would allocate.
    package func isBuilt(byAdding first: (value: Double, timestamp: Int64), then second: (value: Double, timestamp: Int64)? = nil) -> Bool {
        var built = BucketStats()
        built.addToScalars(first.value, at: first.timestamp)
        if let second { built.addToScalars(second.value, at: second.timestamp) }
        return hasScalars(of: built) && sketch.isSketch(of: first.value, second?.value)
    }

    /// Whether every statistic but the sketch is `other`'s, as `==` compares them. Field by
    /// field: comparing copies without their sketches (`withoutSketch`) retained and
    /// released the sketch's storage, a tenth of a flush's CPU in a profile.
    @inline(__always)
    private func hasScalars(of other: BucketStats) -> Bool {
        count == other.count && sum == other.sum && min == other.min && max == other.max && mean == other.mean
            && m2 == other.m2 && firstTimestamp == other.firstTimestamp && first == other.first
            && lastTimestamp == other.lastTimestamp && last == other.last
    }

    /// Every statistic but the sketch takes one reading (Welford's online update).
    @inline(__always)
    private mutating func addToScalars(_ value: Double, at timestamp: Int64) {
        count += 1
        sum += value
        if value < min { min = value }
        if value > max { max = value }
        let delta = value - mean
        mean += delta / Double(count)
        m2 += delta * (value - mean)
        takeFirstLast(value: value, at: timestamp, lastValue: value, at: timestamp)
    }

    /// Folds `other` into this bucket (Chan's parallel formula for mean and M2).
    public mutating func merge(_ other: BucketStats) {
        guard other.count > 0 else { return }
        guard count > 0 else {
            self = other
            return
        }
        let n = Double(count + other.count)
        let delta = other.mean - mean
        let otherShare = Double(other.count) / n
        m2 = m2 + other.m2 + delta * delta * Double(count) * otherShare
        mean += delta * otherShare
        count += other.count
        sum += other.sum
        min = Swift.min(min, other.min)
        max = Swift.max(max, other.max)
        sketch.merge(other.sketch)
        takeFirstLast(value: other.first, at: other.firstTimestamp, lastValue: other.last, at: other.lastTimestamp)
    }

    /// The merge of two buckets, leaving both untouched.
    public func merging(_ other: BucketStats) -> BucketStats {
        var copy = self
        copy.merge(other)
        return copy
    }

    @inline(__always)
    private mutating func takeFirstLast(value: Double, at firstTs: Int64, lastValue: Double, at lastTs: Int64) {
        if firstTs < firstTimestamp || (firstTs == firstTimestamp && value < first) || first.isNaN {
            firstTimestamp = firstTs
            first = value
        }
        if lastTs > lastTimestamp || (lastTs == lastTimestamp && lastValue > last) || last.isNaN {
            lastTimestamp = lastTs
            last = lastValue
        }
    }
}
