#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#elseif canImport(Darwin)
internal import Darwin
#endif

/// A mergeable quantile sketch with relative accuracy (DDSketch, Masson et al. 2019):
/// any quantile it answers is within 1% of the true value at that rank.
///
/// Values are counted in logarithmic bins: bin `k` holds the magnitudes in
/// `(γ^(k-1), γ^k]` with `γ = 1.01 / 0.99`, and answers with `2γ^k / (γ + 1)`, which is
/// within `(γ - 1)/(γ + 1) = 1%` of everything in the bin. Positive and negative values
/// have a store each (negatives by magnitude); exact zeros are counted apart. Merging adds
/// bin counts, so it is exact, associative and commutative: a merged sketch is the sketch
/// of all the values.
///
/// Size is bounded: a store spans at most ``maxBins`` consecutive bins (a range of
/// magnitudes of γ^2047 ≈ e^41 ≈ 9·10^17, far beyond any sensor). Past it, the bins of the
/// smallest magnitudes are collapsed into the smallest kept bin, so only quantiles that
/// fall among values more than e^40 times smaller than the largest lose their accuracy.
/// A bucket whose values stay within ±10% of each other needs about 10 bins.
public struct QuantileSketch: Sendable, Equatable {
    /// Guaranteed relative accuracy of every quantile.
    public static let relativeAccuracy = 0.01
    /// Largest number of consecutive bins per store (see the type's documentation).
    public static let maxBins = 2048
    static let gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy)
    static let multiplier = 1 / log(gamma)

    // Set by the decoder too (QuantileSketch+Encoding.swift).
    var positive = BinStore()
    var negative = BinStore()
    var zeroCount: UInt64 = 0

    public init() {}

    /// An empty sketch to copy: what readers of stored buckets give statistics whose
    /// percentiles they read elsewhere (a copy of a constant costs less than building one).
    public static let empty = QuantileSketch()

    /// Values counted.
    public var count: UInt64 { positive.total + negative.total + zeroCount }

    public var isEmpty: Bool { count == 0 }

    /// 8-byte words its bins take on the heap: at most 2 × ``maxBins``, so a sketch never
    /// takes more than 32 KiB, however far apart its values are; up to two bins of each
    /// sign take none (``SparseBins``), a few more a few words (see ``BinStore``).
    public var storedBins: Int { positive.storedWords + negative.storedWords }

    /// The bin of one finite value. Computing it costs a logarithm; a reading counted at
    /// several resolutions computes it once and adds it to each of their sketches.
    public struct Bin: Sendable {
        fileprivate enum Side { case negative, zero, positive }
        fileprivate let side: Side
        fileprivate let key: Int32

        @inline(__always)
        public init(_ value: Double) {
            if value > 0 {
                (side, key) = (.positive, QuantileSketch.key(of: value))
            } else if value < 0 {
                (side, key) = (.negative, QuantileSketch.key(of: -value))
            } else {
                (side, key) = (.zero, 0)
            }
        }
    }

    /// Counts one finite value.
    @inline(__always)
    public mutating func add(_ value: Double) {
        add(Bin(value))
    }

    /// Counts one value by its precomputed bin; returns how much ``storedBins`` changed
    /// (0 mostly; at most ``maxBins``; below 0 when a sparse store turns dense).
    @inline(__always) @discardableResult
    public mutating func add(_ bin: Bin) -> Int {
        switch bin.side {
        case .positive:
            let before = positive.storedWords
            positive.add(bin.key)
            return positive.storedWords - before
        case .negative:
            let before = negative.storedWords
            negative.add(bin.key)
            return negative.storedWords - before
        case .zero:
            zeroCount += 1
            return 0
        }
    }

    /// Whether this is the sketch of `first` and, when given, `second` (finite values):
    /// what adding them to an empty sketch gives, found without building that one unless
    /// the values are so far apart that adding them collapses bins (``maxBins``).
    package func isSketch(of first: Double, _ second: Double?) -> Bool {
        let firstBin = Bin(first), secondBin = second.map(Bin.init)
        if positive.isDense || negative.isDense
            || secondBin.map({ $0.side == firstBin.side && abs(Int($0.key) - Int(firstBin.key)) >= Self.maxBins }) == true {
            var built = QuantileSketch()
            built.add(firstBin)
            if let secondBin { built.add(secondBin) }
            return built == self
        }
        func expected(_ side: Bin.Side) -> UInt64 { (firstBin.side == side ? 1 : 0) + (secondBin?.side == side ? 1 : 0) }
        guard negative.total == expected(.negative), zeroCount == expected(.zero), positive.total == expected(.positive) else {
            return false
        }
        // The totals agree, so a store holds these bins alone when each holds its count.
        func holds(_ bin: Bin, times: UInt64) -> Bool {
            switch bin.side {
            case .negative: negative.count(ofKey: bin.key) == times
            case .positive: positive.count(ofKey: bin.key) == times
            case .zero: true
            }
        }
        guard let secondBin else { return holds(firstBin, times: 1) }
        if secondBin.side == firstBin.side && secondBin.key == firstBin.key { return holds(firstBin, times: 2) }
        return holds(firstBin, times: 1) && holds(secondBin, times: 1)
    }

    /// Folds `other` in: afterwards this is the sketch of both sets of values.
    public mutating func merge(_ other: QuantileSketch) {
        positive.merge(other.positive)
        negative.merge(other.negative)
        zeroCount += other.zeroCount
    }

    /// The value at quantile `q` (0…1) — the value of rank ⌊q·(n−1)⌋ among the n values in
    /// ascending order, within 1% — clamped to `bounds` (the exact min and max, when known,
    /// which only ever brings the answer closer). Nil for an empty sketch.
    public func quantile(_ q: Double, clampedTo bounds: ClosedRange<Double>? = nil) -> Double? {
        let total = count
        guard total > 0 else { return nil }
        let rank = UInt64((Swift.min(1, Swift.max(0, q)) * Double(total - 1)).rounded(.down))
        return SketchRanks.values(
            atRanks: SIMD4(repeating: rank), negativeTotal: negative.total, zeroCount: zeroCount,
            positiveTotal: positive.total, clampedTo: bounds,
            negativeKeys: negative.keys(atRanks:), positiveKeys: positive.keys(atRanks:))[0]
    }

    /// p50, p90, p95 and p99, each what ``quantile(_:clampedTo:)`` answers for it. Nil
    /// for an empty sketch.
    public func percentiles(clampedTo bounds: ClosedRange<Double>? = nil) -> Percentiles? {
        SketchRanks.percentiles(
            negativeTotal: negative.total, zeroCount: zeroCount, positiveTotal: positive.total, clampedTo: bounds,
            negativeKeys: negative.keys(atRanks:), positiveKeys: positive.keys(atRanks:))
    }

    @inline(__always)
    static func key(of magnitude: Double) -> Int32 {
        Int32((log(magnitude) * multiplier).rounded(.up))
    }

    /// `2γ^k / (γ + 1)` in one rounding, so nothing overflows on the way (`2·γ^k` did for
    /// values above 9e307) and subnormal answers stay within 1%. For the top bins the answer
    /// itself may pass the largest Double, which is then closer to every value of the bin.
    static func value(ofKey key: Int32) -> Double {
        Swift.min(exp(Double(key) / multiplier + log(2 / (gamma + 1))), .greatestFiniteMagnitude)
    }
}

/// Counts per bin of one sign's magnitudes, in one of two forms:
/// - sparse: the non-zero bins as (key, count), ascending, while there are at most
///   ``sparseLimit`` of them — a bucket of a few readings far apart (two readings of 1 and 150
///   lie ~500 bins apart) takes a few entries instead of a run of mostly empty bins;
/// - dense: counts over the contiguous key range `[offset, offset + counts.count)`, once
///   there are more bins than that, or their keys span ``QuantileSketch/maxBins`` (which
///   only the dense form collapses).
/// A store never goes back from dense to sparse. Both forms answer, merge and encode alike:
/// the form is a memory layout, never visible in a result.
struct BinStore: Sendable {
    /// Most non-zero bins kept sparse (8 bytes each on the heap, as a dense bin; 16 past a
    /// count of `UInt32.max`, see ``SparseBins``).
    static let sparseLimit = 32

    struct SparseBin: Sendable, Equatable {
        var key: Int32
        var count: UInt64
    }

    // In this order, `denseOffset` fills the tail of `sparse` (see ``SparseBins``).
    /// The sparse form's bins; empty once dense.
    private var sparse = SparseBins()
    /// The dense form: `denseCounts[i]` is the count of key `denseOffset + i`. Empty while sparse.
    private var denseOffset: Int32 = 0
    private(set) var total: UInt64 = 0
    private var denseCounts: [UInt64] = []

    init() {}

    /// A dense store of `counts` from key `offset` (nil when the counts overflow or pass
    /// ``QuantileSketch/maxBins``); decoding checked everything else.
    init?(offset: Int32, counts: [UInt64]) {
        guard counts.count <= QuantileSketch.maxBins else { return nil }
        var total: UInt64 = 0
        for count in counts {
            let (sum, overflow) = total.addingReportingOverflow(count)
            guard !overflow else { return nil }
            total = sum
        }
        guard Int64(offset) + Int64(counts.count) <= Int64(Int32.max) else { return nil }
        self.denseOffset = offset
        self.denseCounts = counts
        self.total = total
    }

    /// A sparse store of `bins` (ascending keys, counts > 0, at most ``sparseLimit``,
    /// within ``QuantileSketch/maxBins`` of each other, total not overflowing: the
    /// decoder's checks).
    init(sparse bins: SparseBins, total: UInt64) {
        sparse = bins
        self.total = total
    }

    var isEmpty: Bool { total == 0 && sparse.isEmpty && denseCounts.isEmpty }

    var isDense: Bool { !denseCounts.isEmpty }

    /// 8-byte words held on the heap (a sparse bin takes one, two once a count passes
    /// `UInt32.max`; the first two take none).
    var storedWords: Int { denseCounts.count + sparse.heapWords }

    /// The lowest key held (the dense range's start; the first sparse bin's key).
    var offset: Int32 { isDense ? denseOffset : sparse.first?.key ?? 0 }

    /// The dense view `[offset, offset + counts.count)` of either form, built for a sparse
    /// store: for tests and checks, not for hot paths (``forEachBin(_:)`` is).
    var counts: [UInt64] {
        if isDense || sparse.isEmpty { return denseCounts }
        var counts = [UInt64](repeating: 0, count: Int(sparse[sparse.count - 1].key - sparse[0].key) + 1)
        for bin in sparse { counts[Int(bin.key - sparse[0].key)] = bin.count }
        return counts
    }

    /// The lowest and highest key held, nil when empty (a dense range's ends may hold 0).
    var keyRange: ClosedRange<Int32>? {
        if isDense { return denseOffset...(denseOffset + Int32(denseCounts.count) - 1) }
        guard let first = sparse.first, let last = sparse.last else { return nil }
        return first.key...last.key
    }

    /// Calls `body` with each held bin in ascending key order; a dense store's empty
    /// bins are skipped.
    @inline(__always)
    func forEachBin(_ body: (_ key: Int32, _ count: UInt64) -> Void) {
        if isDense {
            for (index, count) in denseCounts.enumerated() where count > 0 { body(denseOffset + Int32(index), count) }
        } else {
            for bin in sparse { body(bin.key, bin.count) }
        }
    }

    /// The count of the bin `key` (0 when not held).
    func count(ofKey key: Int32) -> UInt64 {
        if isDense {
            let index = Int(key) - Int(denseOffset)
            return denseCounts.indices.contains(index) ? denseCounts[index] : 0
        }
        return sparse.first { $0.key == key }?.count ?? 0
    }

    @inline(__always)
    mutating func add(_ key: Int32, count: UInt64 = 1) {
        if isDense {
            addDense(key, count: count)
        } else {
            addSparse(key, count: count)
        }
        total += count
    }

    private mutating func addSparse(_ key: Int32, count: UInt64) {
        // Binary search for the key's place: the bins are few and sorted.
        var low = 0
        var high = sparse.count
        while low < high {
            let middle = (low + high) / 2
            if sparse[middle].key < key { low = middle + 1 } else { high = middle }
        }
        if low < sparse.count, sparse[low].key == key {
            sparse[low].count += count
            return
        }
        sparse.insert(SparseBin(key: key, count: count), at: low)
        let span = Int(sparse[sparse.count - 1].key) - Int(sparse[0].key)
        if sparse.count > Self.sparseLimit || span >= QuantileSketch.maxBins { makeDense() }
    }

    /// Moves the sparse bins into the dense form (whose adds collapse past maxBins).
    private mutating func makeDense() {
        let bins = sparse
        sparse = SparseBins()
        for bin in bins { addDense(bin.key, count: bin.count) }
    }

    @inline(__always)
    private mutating func addDense(_ key: Int32, count: UInt64) {
        let maxBins = QuantileSketch.maxBins
        if denseCounts.isEmpty {
            denseOffset = key
            denseCounts = [count]
        } else if key < denseOffset {
            // Below the range: a key the collapse would fold anyway goes straight to the
            // lowest bin the store may keep, so no run of zeros is built just to be folded.
            let key = Swift.max(key, denseOffset + Int32(denseCounts.count) - Int32(maxBins))
            denseCounts.insert(contentsOf: repeatElement(0, count: Int(denseOffset - key)), at: 0)
            denseCounts[0] += count
            denseOffset = key
        } else if Int(key - denseOffset) >= denseCounts.count {
            if Int(key - denseOffset) >= maxBins {
                // Far above: keep the maxBins keys ending at `key`, folding everything below.
                let newOffset = key - Int32(maxBins) + 1
                var kept = [UInt64](repeating: 0, count: maxBins)
                for (index, binCount) in denseCounts.enumerated() {
                    let at = Swift.max(0, Int(denseOffset + Int32(index) - newOffset))
                    kept[at] += binCount
                }
                denseCounts = kept
                denseOffset = newOffset
            } else {
                denseCounts.append(contentsOf: repeatElement(0, count: Int(key - denseOffset) - denseCounts.count + 1))
            }
            denseCounts[denseCounts.count - 1] += count
        } else {
            denseCounts[Int(key - denseOffset)] += count
        }
    }

    mutating func merge(_ other: BinStore) {
        guard !other.isEmpty else { return }
        guard !isEmpty else {
            self = other
            return
        }
        if !isDense && other.isDense {
            // Merge into a copy of the dense side; the result is the same either way round.
            var merged = other
            merged.merge(self)
            self = merged
            return
        }
        if isDense && other.isDense {
            mergeDense(other)
            return
        }
        // `other` is sparse: its few bins are added one by one (a sparse self may turn dense).
        if !isDense { reserveSparse(adding: other.sparse.count) }
        for bin in other.sparse { add(bin.key, count: bin.count) }
    }

    /// Room for `extra` more sparse bins in storage of its own, at least doubling the
    /// capacity when it grows: a merge's inserts then allocate at most once (twice when a
    /// count passes `UInt32.max` and the bins widen, ``SparseBins``), where each of them
    /// could have (a rollup of a minute merges six buckets into one, over and over).
    /// Shared storage (a bucket merged into an empty one takes its arrays) is copied here
    /// with that room, not by the first insert with room for one more.
    private mutating func reserveSparse(adding extra: Int) {
        let needed = Swift.min(sparse.count + extra, Self.sparseLimit + 1)
        sparse.reserveCapacity(sparse.capacity < needed ? Swift.max(needed, 2 * sparse.capacity) : needed)
    }

    private mutating func mergeDense(_ other: BinStore) {
        let low = Swift.min(denseOffset, other.denseOffset)
        let high = Swift.max(denseOffset + Int32(denseCounts.count), other.denseOffset + Int32(other.denseCounts.count))
        if low < denseOffset || high > denseOffset + Int32(denseCounts.count) {
            var widened = [UInt64](repeating: 0, count: Int(high - low))
            for (index, count) in denseCounts.enumerated() { widened[Int(denseOffset - low) + index] = count }
            denseCounts = widened
            denseOffset = low
        }
        for (index, count) in other.denseCounts.enumerated() where count > 0 {
            denseCounts[Int(other.denseOffset - denseOffset) + index] += count
        }
        total += other.total
        collapseIfNeeded()
    }

    /// ``SketchRanks/keys(atRanks:bins:lastKey:)`` over this store.
    func keys(atRanks ranks: SIMD4<UInt64>) -> SIMD4<Int32> {
        if isDense { return SketchRanks.keys(atRanks: ranks, offset: denseOffset, counts: denseCounts) }
        let bins = sparse.lazy.map { (key: $0.key, count: $0.count) }
        return SketchRanks.keys(atRanks: ranks, bins: bins, lastKey: sparse.last?.key ?? 0)
    }

    /// Keeps the `maxBins` highest keys, folding the lower ones into the lowest kept bin.
    private mutating func collapseIfNeeded() {
        let excess = denseCounts.count - QuantileSketch.maxBins
        guard excess > 0 else { return }
        let folded = denseCounts[0...excess].reduce(0, +)
        denseCounts.removeFirst(excess)
        denseCounts[0] = folded
        denseOffset += Int32(excess)
    }
}

extension BinStore: Equatable {
    /// Equal when they count the same values in the same bins, whatever their forms.
    static func == (lhs: BinStore, rhs: BinStore) -> Bool {
        guard lhs.total == rhs.total else { return false }
        if !lhs.isDense && !rhs.isDense { return lhs.sparse == rhs.sparse }
        var left: [SparseBin] = []
        var right: [SparseBin] = []
        lhs.forEachBin { left.append(SparseBin(key: $0, count: $1)) }
        rhs.forEachBin { right.append(SparseBin(key: $0, count: $1)) }
        return left == right
    }
}
