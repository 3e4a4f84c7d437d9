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
    internal(set) var positive = BinStore()
    internal(set) var negative = BinStore()
    internal(set) var zeroCount: UInt64 = 0

    public init() {}

    /// Values counted.
    public var count: UInt64 { positive.total + negative.total + zeroCount }

    public var isEmpty: Bool { count == 0 }

    /// Bins held in memory (8 bytes each): at most 2 × ``maxBins``, so a sketch never
    /// takes more than 32 KiB, however far apart its values are.
    public var storedBins: Int { positive.counts.count + negative.counts.count }

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

    /// Counts one value by its precomputed bin; returns how many bins that added to
    /// ``storedBins`` (0 mostly; at most ``maxBins``).
    @inline(__always) @discardableResult
    public mutating func add(_ bin: Bin) -> Int {
        switch bin.side {
        case .positive:
            let before = positive.counts.count
            positive.add(bin.key)
            return positive.counts.count - before
        case .negative:
            let before = negative.counts.count
            negative.add(bin.key)
            return negative.counts.count - before
        case .zero:
            zeroCount += 1
            return 0
        }
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

/// Counts per bin over a contiguous key range `[offset, offset + counts.count)`.
struct BinStore: Sendable, Equatable {
    private(set) var offset: Int32 = 0
    private(set) var counts: [UInt64] = []
    private(set) var total: UInt64 = 0

    init() {}

    init?(offset: Int32, counts: [UInt64]) {
        guard counts.count <= QuantileSketch.maxBins else { return nil }
        var total: UInt64 = 0
        for count in counts {
            let (sum, overflow) = total.addingReportingOverflow(count)
            guard !overflow else { return nil }
            total = sum
        }
        guard Int64(offset) + Int64(counts.count) <= Int64(Int32.max) else { return nil }
        self.offset = offset
        self.counts = counts
        self.total = total
    }

    @inline(__always)
    mutating func add(_ key: Int32, count: UInt64 = 1) {
        let maxBins = QuantileSketch.maxBins
        if counts.isEmpty {
            offset = key
            counts = [count]
        } else if key < offset {
            // Below the range: a key the collapse would fold anyway goes straight to the
            // lowest bin the store may keep, so no run of zeros is built just to be folded.
            let key = Swift.max(key, offset + Int32(counts.count) - Int32(maxBins))
            counts.insert(contentsOf: repeatElement(0, count: Int(offset - key)), at: 0)
            counts[0] += count
            offset = key
        } else if Int(key - offset) >= counts.count {
            if Int(key - offset) >= maxBins {
                // Far above: keep the maxBins keys ending at `key`, folding everything below.
                let newOffset = key - Int32(maxBins) + 1
                var kept = [UInt64](repeating: 0, count: maxBins)
                for (index, binCount) in counts.enumerated() {
                    let at = Swift.max(0, Int(offset + Int32(index) - newOffset))
                    kept[at] += binCount
                }
                counts = kept
                offset = newOffset
            } else {
                counts.append(contentsOf: repeatElement(0, count: Int(key - offset) - counts.count + 1))
            }
            counts[counts.count - 1] += count
        } else {
            counts[Int(key - offset)] += count
        }
        total += count
    }

    mutating func merge(_ other: BinStore) {
        guard !other.counts.isEmpty else { return }
        guard !counts.isEmpty else {
            self = other
            return
        }
        let low = Swift.min(offset, other.offset)
        let high = Swift.max(offset + Int32(counts.count), other.offset + Int32(other.counts.count))
        if low < offset || high > offset + Int32(counts.count) {
            var widened = [UInt64](repeating: 0, count: Int(high - low))
            for (index, count) in counts.enumerated() { widened[Int(offset - low) + index] = count }
            counts = widened
            offset = low
        }
        for (index, count) in other.counts.enumerated() where count > 0 {
            counts[Int(other.offset - offset) + index] += count
        }
        total += other.total
        collapseIfNeeded()
    }

    /// ``SketchRanks/keys(atRanks:bins:lastKey:)`` over this store.
    func keys(atRanks ranks: SIMD4<UInt64>) -> SIMD4<Int32> {
        SketchRanks.keys(atRanks: ranks, offset: offset, counts: counts)
    }

    /// Keeps the `maxBins` highest keys, folding the lower ones into the lowest kept bin.
    private mutating func collapseIfNeeded() {
        let excess = counts.count - QuantileSketch.maxBins
        guard excess > 0 else { return }
        let folded = counts[0...excess].reduce(0, +)
        counts.removeFirst(excess)
        counts[0] = folded
        offset += Int32(excess)
    }
}
