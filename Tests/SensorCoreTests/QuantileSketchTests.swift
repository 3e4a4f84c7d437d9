import Foundation
import Testing
@testable import SensorCore

// Every expectation here is computed from the raw values (sorted), never from the sketch:
// the exact quantile q of n values is the one of rank ⌊q·(n−1)⌋ in ascending order, the
// rank convention documented on `QuantileSketch.quantile`.

/// The quantiles every data set is checked at, plus a sweep at every 1% (`sweep`).
private let namedQuantiles: [Double] = [0, 0.5, 0.9, 0.95, 0.99, 1]
private let sweep: [Double] = namedQuantiles + (1..<100).map { Double($0) / 100 }

private func exactQuantile(_ sorted: [Double], _ q: Double) -> Double {
    sorted[Int((q * Double(sorted.count - 1)).rounded(.down))]
}

/// Relative accuracy 1%. The slack is relative (1e-9, floating-point noise in γ^k for keys
/// near ±35 000) plus half a unit in the last place of `exact` (the answer has to be a
/// Double: among the subnormals that grid is coarse, and rounding to it is unavoidable).
/// No absolute slack: an absolute 1e-12 would let anything pass for values near 1e-300.
private func withinAccuracy(_ estimate: Double, _ exact: Double) -> Bool {
    if exact == 0 { return estimate == 0 }
    return abs(estimate - exact) <= 0.01 * abs(exact) * (1 + 1e-9) + exact.ulp / 2
}

/// Records one issue per quantile whose estimate is not within 1% of the exact value.
private func expectAccurate(
    _ sketch: QuantileSketch, _ sorted: [Double], at quantiles: [Double] = sweep,
    clamped: Bool = false, _ context: String, sourceLocation: SourceLocation = #_sourceLocation
) {
    var failures: [String] = []
    for q in quantiles {
        let exact = exactQuantile(sorted, q)
        let bounds = clamped ? sorted.first!...sorted.last! : nil
        guard let estimate = sketch.quantile(q, clampedTo: bounds) else {
            failures.append("q=\(q): nil, exact \(exact)")
            continue
        }
        if !withinAccuracy(estimate, exact) {
            failures.append("q=\(q): estimate \(estimate), exact \(exact), relative error \(abs(estimate - exact) / abs(exact))")
        }
        if let bounds, !bounds.contains(estimate) {
            failures.append("q=\(q): clamped estimate \(estimate) outside \(bounds)")
        }
    }
    #expect(
        failures.isEmpty,
        "\(context): \(failures.count) quantiles off by more than 1%: \(failures.prefix(5).joined(separator: "; "))",
        sourceLocation: sourceLocation)
}

private func sketch(of values: some Sequence<Double>) -> QuantileSketch {
    var sketch = QuantileSketch()
    for value in values { sketch.add(value) }
    return sketch
}

/// Uniform in (0, 1]: never 0, so its logarithm is finite.
private func unitOpen(_ rng: inout SeededGenerator) -> Double {
    1 - Double.random(in: 0..<1, using: &rng)
}

/// Box–Muller.
private func normal(_ mean: Double, _ sd: Double, _ rng: inout SeededGenerator) -> Double {
    let u1 = unitOpen(&rng), u2 = unitOpen(&rng)
    return mean + sd * (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
}

private func logUniform(_ low: Double, _ high: Double, _ rng: inout SeededGenerator) -> Double {
    exp(Double.random(in: log(low)...log(high), using: &rng))
}

/// The data sets; each is reproducible from its own seed.
enum SketchDataset: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case uniform, lognormal, bimodal, allNegative, mixedSignWithZeros, constant, single
    case tiny, huge, subnormal, nearLargestDouble
    /// Spans far more than `maxBins` bins: only its upper part is answered within 1%.
    case wideRange

    var testDescription: String { rawValue }

    /// The data sets whose whole range fits in `maxBins` bins, so every quantile is within 1%.
    static let fitting = allCases.filter { $0 != .wideRange }

    var values: [Double] {
        var rng = SeededGenerator(seed: 0x5EED_0000 + UInt64(Self.allCases.firstIndex(of: self)!))
        switch self {
        case .uniform:
            return (0..<10_000).map { _ in Double.random(in: 0..<100, using: &rng) }
        case .lognormal:
            return (0..<10_000).map { _ in exp(normal(0, 2, &rng)) }
        case .bimodal:
            return (0..<5_000).map { _ in normal(10, 1, &rng) } + (0..<5_000).map { _ in normal(1000, 50, &rng) }
        case .allNegative:
            return (0..<10_000).map { _ in -exp(normal(0, 2, &rng)) }
        case .mixedSignWithZeros:
            // 20% exact zeros (half of them -0.0), the rest both signs: p50 falls on a zero.
            let zeros = (0..<2_000).map { $0 % 2 == 0 ? 0.0 : -0.0 }
            let rest = (0..<8_000).map { _ in normal(0, 30, &rng) }
            return (zeros + rest).shuffled(using: &rng)
        case .constant:
            return Array(repeating: 21.5, count: 1_000)
        case .single:
            return [-3.7]
        case .tiny:
            return (0..<10_000).map { _ in 1e-300 * exp(normal(0, 2, &rng)) }
        case .huge:
            return (0..<10_000).map { _ in 1e300 * exp(normal(0, 2, &rng)) }
        case .subnormal:
            // Subnormals of every magnitude (uniform bit patterns), the smallest few exactly,
            // and their negatives.
            var values = (0..<5_000).map { _ in Double(bitPattern: UInt64.random(in: 1..<(1 << 52), using: &rng)) }
            values += (1...64).map { Double.leastNonzeroMagnitude * Double($0) }
            values += values.prefix(2_000).map { -$0 }
            return values.shuffled(using: &rng)
        case .nearLargestDouble:
            // The top bin reaches past the largest Double: its answer must stay finite.
            var values = (0..<2_000).map { _ in Double.greatestFiniteMagnitude * Double.random(in: 0.5...1, using: &rng) }
            values += [.greatestFiniteMagnitude, -.greatestFiniteMagnitude]
            values += (0..<500).map { _ in -Double.greatestFiniteMagnitude * Double.random(in: 0.9...1, using: &rng) }
            return values.shuffled(using: &rng)
        case .wideRange:
            // 10% spread over 1e-200…1e180, 90% within the top 14 decades below 1e200 (all
            // inside the maxBins bins below the largest, about 17.9 decades). Kept small:
            // each value far below a full store costs an insertion as long as the distance.
            var values = (0..<200).map { _ in logUniform(1e-200, 1e180, &rng) }
            values += (0..<1_800).map { _ in logUniform(1e186, 1e200, &rng) }
            values += [1e-200, 1e200]
            return values.shuffled(using: &rng)
        }
    }
}

/// Splits `values` at random into `parts` parts (some may be empty).
private func split(_ values: [Double], into parts: Int, _ rng: inout SeededGenerator) -> [[Double]] {
    var result = Array(repeating: [Double](), count: parts)
    for value in values { result[Int.random(in: 0..<parts, using: &rng)].append(value) }
    return result
}

/// LEB128, written here independently of the product's `Varint`.
private func leb128(_ value: UInt64) -> [UInt8] {
    var value = value, bytes: [UInt8] = []
    repeat {
        let low = UInt8(value & 0x7F)
        value >>= 7
        bytes.append(value == 0 ? low : low | 0x80)
    } while value != 0
    return bytes
}

private func zigzag(_ value: Int64) -> UInt64 {
    value >= 0 ? UInt64(value) * 2 : UInt64(-(value + 1)) * 2 + 1
}

/// An encoding laid out by hand: version 1, zero count, then for the negative and the
/// positive store the bin count and, when non-zero, the zigzag offset and the counts.
private func handEncoded(
    version: UInt8 = 1, zeros: UInt64 = 0,
    negative: (offset: Int64, counts: [UInt64])? = nil, positive: (offset: Int64, counts: [UInt64])? = nil
) -> [UInt8] {
    var bytes = [version] + leb128(zeros)
    for store in [negative, positive] {
        guard let store, !store.counts.isEmpty else {
            bytes += leb128(0)
            continue
        }
        bytes += leb128(UInt64(store.counts.count)) + leb128(zigzag(store.offset))
        for count in store.counts { bytes += leb128(count) }
    }
    return bytes
}

/// The positive store's counts from key(1) up, every bin of the range.
private func denseCounts(_ sketch: QuantileSketch) -> [UInt64] {
    let low = Int(QuantileSketch.key(of: 1))
    var counts = [UInt64](repeating: 0, count: Int(sketch.positive.offset) - low + sketch.positive.counts.count)
    for (index, count) in sketch.positive.counts.enumerated() { counts[Int(sketch.positive.offset) - low + index] = count }
    return counts
}

/// A few fresh readings to merge with decoded sketches.
private let freshReadings = sketch(of: [1, 21.5, -4, 0, 1e6, -1e-3])

/// Exercises a decoded sketch the way the store does (count, quantiles, merge with fresh
/// readings both ways, add, encode): none of it may trap.
private func exercise(_ decoded: QuantileSketch) {
    _ = decoded.count
    _ = decoded.isEmpty
    for q in namedQuantiles { _ = decoded.quantile(q) }
    var merged = decoded
    merged.merge(freshReadings)
    merged.add(7)
    merged.add(-3)
    var other = freshReadings
    other.merge(decoded)
    _ = merged.quantile(0.5)
    _ = other.quantile(0.5)
    if merged.count <= UInt64(Int64.max) {
        #expect(QuantileSketch(encoded: merged.encoded) == merged, "a merged decoded sketch does not round-trip")
    }
}

@Suite struct QuantileSketchTests {
    // MARK: Accuracy

    @Test(arguments: SketchDataset.fitting)
    func everyQuantileIsWithinOnePercentOfTheExactOne(_ dataset: SketchDataset) {
        let values = dataset.values
        let sorted = values.sorted()
        let s = sketch(of: values)
        #expect(s.count == UInt64(values.count), "count \(s.count) for \(values.count) values")
        #expect(!s.isEmpty)
        expectAccurate(s, sorted, "\(dataset)")
        expectAccurate(s, sorted, clamped: true, "\(dataset), clamped to min...max")
    }

    @Test func mixedSignDataAnswersExactZeroOnTheZeros() throws {
        let values = SketchDataset.mixedSignWithZeros.values
        let sorted = values.sorted()
        let s = sketch(of: values)
        let zeroRanks = sorted.indices.filter { sorted[$0] == 0 }
        #expect(zeroRanks.count == 2_000)
        // A q whose rank ⌊q·(n−1)⌋ is exactly `rank`.
        func q(ofRank rank: Int) -> Double { (Double(rank) + 0.5) / Double(values.count - 1) }
        for rank in [zeroRanks.first!, zeroRanks[1_000], zeroRanks.last!] {
            #expect(try #require(s.quantile(q(ofRank: rank))) == 0, "rank \(rank) is a zero")
        }
        #expect(try #require(s.quantile(0.5)) == 0, "p50 falls among the zeros")
        let before = try #require(s.quantile(q(ofRank: zeroRanks.first! - 1)))
        #expect(before < 0 && withinAccuracy(before, sorted[zeroRanks.first! - 1]), "last rank before the zeros: \(before)")
        let after = try #require(s.quantile(q(ofRank: zeroRanks.last! + 1)))
        #expect(after > 0 && withinAccuracy(after, sorted[zeroRanks.last! + 1]), "first rank after the zeros: \(after)")
    }

    @Test func constantSeriesIsWithinOnePercentAndExactWhenClamped() throws {
        let s = sketch(of: Array(repeating: 21.5, count: 1_000))
        #expect(s.count == 1_000)
        #expect(s.positive.counts.count == 1, "one value, one bin: \(s.positive.counts.count)")
        for q in namedQuantiles {
            let estimate = try #require(s.quantile(q))
            #expect(abs(estimate - 21.5) <= 0.01 * 21.5, "q=\(q): \(estimate)")
            #expect(s.quantile(q, clampedTo: 21.5...21.5) == 21.5, "q=\(q) clamped")
        }
    }

    @Test func singleValueIsEveryQuantile() throws {
        for value in [-3.7, 0, 1e-5, 42, 8.5e37] {
            let s = sketch(of: [value])
            #expect(s.count == 1)
            for q in namedQuantiles {
                let estimate = try #require(s.quantile(q))
                #expect(withinAccuracy(estimate, value), "value \(value), q=\(q): \(estimate)")
                #expect(s.quantile(q, clampedTo: value...value) == value)
            }
        }
    }

    @Test func extremeMagnitudesStayFiniteAndWithinOnePercent() throws {
        // One value per sketch, unclamped: the bin's own answer is checked.
        let values: [Double] = [
            .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .greatestFiniteMagnitude.nextDown,
            .greatestFiniteMagnitude / 1.015, .leastNormalMagnitude, .leastNonzeroMagnitude,
            -.leastNonzeroMagnitude, 2 * .leastNonzeroMagnitude, 3 * .leastNonzeroMagnitude,
            49 * .leastNonzeroMagnitude, 1e-300, 1e300, -1e300,
        ]
        for value in values {
            let estimate = try #require(sketch(of: [value]).quantile(0.5))
            #expect(estimate.isFinite, "\(value): \(estimate)")
            #expect(withinAccuracy(estimate, value), "\(value): estimate \(estimate)")
        }
    }

    @Test func emptySketchHasNoQuantiles() {
        let empty = QuantileSketch()
        #expect(empty.isEmpty)
        #expect(empty.count == 0)
        for q in namedQuantiles {
            #expect(empty.quantile(q) == nil, "q=\(q)")
            #expect(empty.quantile(q, clampedTo: 0...1) == nil, "q=\(q) clamped")
        }
        var merged = QuantileSketch()
        merged.merge(QuantileSketch())
        #expect(merged == empty && merged.isEmpty)
        let some = sketch(of: [1, -2, 0])
        var intoEmpty = QuantileSketch()
        intoEmpty.merge(some)
        #expect(intoEmpty == some)
        var emptyInto = some
        emptyInto.merge(QuantileSketch())
        #expect(emptyInto == some)
        #expect(!some.isEmpty)
    }

    // MARK: Merging

    @Test(arguments: SketchDataset.allCases, [1, 7, 100])
    func mergedPartsEqualTheSketchOfAllValues(_ dataset: SketchDataset, parts: Int) {
        let values = dataset.values
        let sorted = values.sorted()
        let whole = sketch(of: values)
        var rng = SeededGenerator(seed: 0x3E26E + UInt64(parts))
        let partSketches = split(values, into: parts, &rng).map { sketch(of: $0) }
        #expect(partSketches.reduce(0) { $0 + $1.count } == UInt64(values.count))

        for trial in 0..<3 {
            // Left fold into an empty sketch, in a random order.
            var folded = QuantileSketch()
            for part in partSketches.shuffled(using: &rng) { folded.merge(part) }
            #expect(folded == whole, "\(dataset), \(parts) parts, trial \(trial): left fold differs from the whole")

            // Right fold: each part absorbs the accumulated rest.
            let order = partSketches.shuffled(using: &rng)
            var accumulated = order.last!
            for part in order.dropLast().reversed() {
                var next = part
                next.merge(accumulated)
                accumulated = next
            }
            #expect(accumulated == whole, "\(dataset), \(parts) parts, trial \(trial): right fold differs")

            // Random tree: merge two random sketches of the pool until one is left.
            var pool = partSketches
            while pool.count > 1 {
                let i = Int.random(in: 0..<pool.count, using: &rng)
                var a = pool.remove(at: i)
                let j = Int.random(in: 0..<pool.count, using: &rng)
                a.merge(pool.remove(at: j))
                pool.append(a)
            }
            #expect(pool[0] == whole, "\(dataset), \(parts) parts, trial \(trial): tree merge differs")
            #expect(pool[0].count == UInt64(values.count))
        }
        if dataset != .wideRange {
            var folded = QuantileSketch()
            for part in partSketches { folded.merge(part) }
            expectAccurate(folded, sorted, at: namedQuantiles, "\(dataset) merged from \(parts) parts")
        }
    }

    // MARK: Memory forms

    /// Each bin's count computed straight from the values: (key, count) ascending, per sign.
    private func histogram(_ values: [Double]) -> (negative: [BinStore.SparseBin], zeros: UInt64, positive: [BinStore.SparseBin]) {
        var negative: [Int32: UInt64] = [:]
        var positive: [Int32: UInt64] = [:]
        var zeros: UInt64 = 0
        for value in values {
            let key = QuantileSketch.key(of: abs(value))
            if value > 0 { positive[key, default: 0] += 1 } else if value < 0 { negative[key, default: 0] += 1 } else { zeros += 1 }
        }
        func sorted(_ bins: [Int32: UInt64]) -> [BinStore.SparseBin] {
            bins.sorted { $0.key < $1.key }.map { BinStore.SparseBin(key: $0.key, count: $0.value) }
        }
        return (sorted(negative), zeros, sorted(positive))
    }

    private func bins(_ store: BinStore) -> [BinStore.SparseBin] {
        var bins: [BinStore.SparseBin] = []
        store.forEachBin { bins.append(BinStore.SparseBin(key: $0, count: $1)) }
        return bins
    }

    /// Around the sparse limit, over [-50, 150] (the harness's range, ~1,100 bins wide):
    /// both forms hold exactly the values' bins, and a store is dense only past the limit.
    @Test(arguments: [1, 2, 5, 31, 32, 33, 64, 65, 500])
    func eitherFormHoldsExactlyTheValuesBins(_ n: Int) {
        var rng = SeededGenerator(seed: 0xF0F0 + UInt64(n))
        let values = (0..<n).map { _ in (Double.random(in: -50...150, using: &rng) * 1000).rounded() / 1000 }
        let s = sketch(of: values)
        let expected = histogram(values)
        #expect(bins(s.negative) == expected.negative && bins(s.positive) == expected.positive && s.zeroCount == expected.zeros,
                "\(n) values: the bins differ from the histogram")
        for (store, bins) in [(s.negative, expected.negative), (s.positive, expected.positive)] {
            #expect(store.isDense == (bins.count > BinStore.sparseLimit), "\(n) values, \(bins.count) bins: dense \(store.isDense)")
        }
        expectAccurate(s, values.sorted(), "\(n) values over [-50, 150]")
        #expect(QuantileSketch(encoded: s.encoded) == s, "\(n) values: the encoding does not round-trip")
    }

    @Test func fewValuesFarApartTakeAFewWords() {
        // Dense, 1 and 150 would span ~250 bins (2 KB); sparse, two bins kept in place and
        // then 8 bytes a bin on the heap.
        var s = sketch(of: [1, 150])
        #expect(s.storedBins == 0, "\(s.storedBins) heap words for two values")
        #expect(BucketStats().footprint < 256)
        #expect(s.add(QuantileSketch.Bin(10_000)) == 3, "the third bin moves all three to the heap")
        #expect(s.storedBins == 3)
    }

    /// Merging never depends on the forms: sparse into dense, dense into sparse, sparse
    /// into sparse past the limit give the sketch of all the values, and the same bytes.
    @Test func mergesAcrossFormsEqualTheSketchOfAllValues() {
        var rng = SeededGenerator(seed: 0xF0F1)
        for trial in 0..<200 {
            let sizes = [Int.random(in: 0...40, using: &rng), Int.random(in: 0...40, using: &rng), Int.random(in: 0...400, using: &rng)]
            let parts = sizes.map { size in (0..<size).map { _ in Double.random(in: -50...150, using: &rng) } }
            let whole = sketch(of: parts.flatMap { $0 })
            for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0]] {
                var merged = QuantileSketch()
                for index in order { merged.merge(sketch(of: parts[index])) }
                #expect(merged == whole && merged.encoded == whole.encoded, "trial \(trial), order \(order), sizes \(sizes)")
                #expect(merged.percentiles() == whole.percentiles(), "trial \(trial): percentiles differ")
            }
        }
    }

    @Test func aSparseStoreSpanningMaxBinsTurnsDenseAndCollapses() throws {
        // Two values ~45,000 bins apart: the dense form's collapse applies, as it did before
        // the sparse form existed (the top maxBins keys kept, the rest folded into the lowest).
        let s = sketch(of: [1e-200, 1e200])
        #expect(s.positive.isDense)
        #expect(s.positive.counts.count == QuantileSketch.maxBins)
        #expect(s.positive.counts.first == 1 && s.positive.counts.last == 1)
        #expect(try #require(QuantileSketch(encoded: s.encoded)) == s)
    }

    // MARK: Bounded size

    @Test(arguments: [1.0, -1.0])
    func storeNeverExceedsMaxBinsAndKeepsTheHighMagnitudesAccurate(_ sign: Double) throws {
        let values = SketchDataset.wideRange.values.map { sign * $0 }
        let magnitudes = values.map(abs).sorted()
        // The data span about 45 000 bins, far beyond maxBins.
        let span = log(magnitudes.last! / magnitudes.first!) / log(QuantileSketch.gamma)
        #expect(span > 20 * Double(QuantileSketch.maxBins))

        var s = QuantileSketch()
        var widest = 0
        for value in values {
            s.add(value)
            widest = max(widest, s.positive.counts.count, s.negative.counts.count)
        }
        #expect(widest <= QuantileSketch.maxBins, "a store reached \(widest) bins")
        let store = sign > 0 ? s.positive : s.negative
        #expect(store.counts.count == QuantileSketch.maxBins, "the store is full: \(store.counts.count)")
        #expect(s.count == UInt64(values.count), "count \(s.count) for \(values.count) values")

        // Quantiles of magnitude: for negatives, q of the magnitudes is 1−q of the values.
        func magnitudeQuantile(_ q: Double) -> Double? {
            sign > 0 ? s.quantile(q) : s.quantile(1 - q).map { -$0 }
        }
        // Everything within γ^2047 ≈ e^41.4 ≈ 9e17 of the largest (the maxBins bins kept) is
        // answered within 1%: p25 and above lie in 1e186…1e200.
        let kept = magnitudes.last! / pow(QuantileSketch.gamma, Double(QuantileSketch.maxBins - 1))
        for q in [0.25, 0.5, 0.9, 0.95, 0.99, 1] {
            // The rank among the magnitudes that the sketch's rank among the values is.
            let n = Double(values.count - 1)
            let rank = sign > 0 ? Int((q * n).rounded(.down)) : values.count - 1 - Int(((1 - q) * n).rounded(.down))
            let exact = magnitudes[rank]
            #expect(exact >= kept, "test data: q=\(q) should lie in the kept range")
            let estimate = try #require(magnitudeQuantile(q))
            #expect(withinAccuracy(estimate, exact), "sign \(sign), q=\(q): estimate \(estimate), exact \(exact)")
        }
        // Documented loss: ranks among the collapsed smallest magnitudes answer the smallest
        // kept bin — too large, never too small, and nowhere near the exact value.
        for q in [0.0, 0.05] {
            let n = Double(values.count - 1)
            let rank = sign > 0 ? Int((q * n).rounded(.down)) : values.count - 1 - Int(((1 - q) * n).rounded(.down))
            let exact = magnitudes[rank]
            let estimate = try #require(magnitudeQuantile(q))
            #expect(exact < kept / 10, "test data: q=\(q) should lie among the collapsed values")
            #expect(estimate >= kept * 0.99 && estimate <= kept * 1.03,
                    "q=\(q): collapsed rank answers \(estimate), the smallest kept bin is about \(kept)")
        }

        // Collapsing does not depend on the order the values arrive in.
        let ascending = sketch(of: values.sorted())
        let descending = sketch(of: values.sorted().reversed())
        #expect(ascending == s && descending == s, "the order of adds changed the collapsed sketch")
    }

    @Test func alternatingExtremesStayBounded() {
        var s = QuantileSketch()
        var widest = 0
        for i in 0..<100 {
            s.add(i % 2 == 0 ? 1e-300 * Double(i + 1) : 1e300 / Double(i + 1))
            s.add(i % 2 == 0 ? -1e300 : -Double.leastNonzeroMagnitude)
            widest = max(widest, s.positive.counts.count, s.negative.counts.count)
        }
        #expect(widest <= QuantileSketch.maxBins, "a store reached \(widest) bins")
        #expect(s.count == 200)
    }

    // MARK: Encoding

    @Test(arguments: SketchDataset.allCases)
    func encodingRoundTrips(_ dataset: SketchDataset) throws {
        let s = sketch(of: dataset.values)
        let bytes = s.encoded
        let decoded = try #require(QuantileSketch(encoded: bytes), "\(dataset): its own encoding did not decode")
        #expect(decoded == s, "\(dataset): decoded sketch differs")
        #expect(decoded.encoded == bytes)
        #expect(bytes.first == 2, "version byte \(String(describing: bytes.first))")
        for q in namedQuantiles { #expect(decoded.quantile(q) == s.quantile(q)) }
    }

    @Test func emptySketchRoundTrips() throws {
        let bytes = QuantileSketch().encoded
        #expect(bytes == [2, 0, 0, 0], "empty encoding \(bytes)")
        let decoded = try #require(QuantileSketch(encoded: bytes))
        #expect(decoded == QuantileSketch() && decoded.isEmpty)
    }

    @Test func encodingLayoutIsVersionZerosThenNegativeThenPositiveStore() {
        // Laid out independently: keys by ⌈ln|v| / ln γ⌉.
        let gamma = 1.01 / 0.99
        func key(_ magnitude: Double) -> Int64 { Int64((log(magnitude) / log(gamma)).rounded(.up)) }
        let s = sketch(of: [0, 0, 0, -2, -2, -2.03, 500, 500, 500, 600])
        // Negatives: two adjacent bins, dense (header 2 << 1 | 0). Positives: two bins
        // nine apart, sparse (header 2 << 1 | 1): first key, its count, gap, count.
        #expect(key(2.03) == key(2) + 1)
        let expected: [UInt8] = [2] + leb128(3)
            + leb128(2 << 1) + leb128(zigzag(key(2))) + [2, 1]
            + leb128(2 << 1 | 1) + leb128(zigzag(key(500))) + [3] + leb128(UInt64(key(600) - key(500))) + [1]
        #expect(s.encoded == expected, "encoded \(s.encoded), expected \(expected)")
    }

    @Test func eachStoreTakesTheShorterForm() throws {
        // Ten values far apart: sparse, about two bytes a value, where dense took one a bin.
        let spread = sketch(of: (0..<10).map { 1 + 15 * Double($0) })
        #expect(spread.encoded.count <= 25, "\(spread.encoded.count) bytes for ten values spread over 1…136")
        #expect(spread.encoded[3] & 1 == 1, "the positive store is sparse")
        // A dense encoding of the same sketch (version 1) is several times longer.
        #expect(handEncoded(positive: (Int64(QuantileSketch.key(of: 1)), denseCounts(spread))).count > 4 * spread.encoded.count)
        #expect(try #require(QuantileSketch(encoded: spread.encoded)) == spread)
    }

    @Test func versionOneDecodesToTheSameSketch() throws {
        for dataset in SketchDataset.allCases {
            let s = sketch(of: dataset.values)
            let negative = s.negative.counts.isEmpty ? nil : (Int64(s.negative.offset), s.negative.counts)
            let positive = s.positive.counts.isEmpty ? nil : (Int64(s.positive.offset), s.positive.counts)
            let old = handEncoded(zeros: s.zeroCount, negative: negative, positive: positive)
            #expect(try #require(QuantileSketch(encoded: old)) == s, "\(dataset)")
        }
        // Empty bins at the ends of a version-1 store are dropped, so a second encoding
        // decodes to the same sketch.
        let padded = try #require(QuantileSketch(encoded: handEncoded(positive: (10, [0, 0, 4, 0, 1, 0]))))
        #expect(padded == sketch(of: (0..<4).map { _ in QuantileSketch.value(ofKey: 12) } + [QuantileSketch.value(ofKey: 14)]))
        #expect(QuantileSketch(encoded: padded.encoded) == padded)
    }

    @Test func sparseStoresAreChecked() {
        func sparse(_ first: Int64, _ entries: [(gap: UInt64, count: UInt64)], header: UInt64? = nil) -> [UInt8] {
            var bytes: [UInt8] = [2, 0, 0] + leb128(header ?? (UInt64(entries.count) << 1 | 1)) + leb128(zigzag(first))
            for (index, entry) in entries.enumerated() {
                if index > 0 { bytes += leb128(entry.gap) }
                bytes += leb128(entry.count)
            }
            return bytes
        }
        #expect(QuantileSketch(encoded: sparse(5, [(0, 3), (4, 1)]))?.count == 4)
        #expect(QuantileSketch(encoded: sparse(5, [(0, 3), (0, 1)])) == nil, "a gap of 0 repeats a key")
        #expect(QuantileSketch(encoded: sparse(5, [(0, 3), (4, 0)])) == nil, "a sparse bin counts something")
        #expect(QuantileSketch(encoded: sparse(5, [(0, 3), (UInt64(QuantileSketch.maxBins), 1)])) == nil, "span past maxBins")
        #expect(QuantileSketch(encoded: sparse(0, [(0, 1), (UInt64(QuantileSketch.maxBins - 1), 1)])) != nil, "span of exactly maxBins")
        #expect(QuantileSketch(encoded: [2, 0, 0, 1]) == nil, "an empty store is written as 0")
        #expect(QuantileSketch(encoded: sparse(Int64(QuantileSketch.key(of: .greatestFiniteMagnitude)), [(0, 1), (1, 1)])) == nil,
                "a key past the largest finite one")
        #expect(QuantileSketch(encoded: sparse(5, [(0, 3), (4, 1)], header: 3 << 1 | 1)) == nil, "fewer entries than the header says")
    }

    @Test func smallBucketEncodesCompactly() {
        var rng = SeededGenerator(seed: 60)
        let s = sketch(of: (0..<60).map { _ in 20 * Double.random(in: 0.95...1.05, using: &rng) })
        // ±5% is about 5 bins: version, zero count, two bin counts, an offset and a byte a bin.
        #expect(s.encoded.count < 100, "\(s.encoded.count) bytes")
        #expect(s.encoded.count <= 16, "\(s.encoded.count) bytes for 60 values within ±5%")
    }

    @Test func decodingRejectsOtherVersions() {
        let valid = sketch(of: SketchDataset.mixedSignWithZeros.values).encoded
        #expect(QuantileSketch(encoded: valid) != nil)
        for version in UInt8.min...UInt8.max where version != 1 && version != 2 {
            var other = valid
            other[0] = version
            #expect(QuantileSketch(encoded: other) == nil, "version \(version) decoded")
        }
        #expect(QuantileSketch(encoded: []) == nil)
        #expect(QuantileSketch(encoded: [3, 0, 0, 0]) == nil)
    }

    @Test(arguments: [SketchDataset.mixedSignWithZeros, .single, .constant, .lognormal, .wideRange])
    func decodingRejectsEveryTruncation(_ dataset: SketchDataset) {
        for bytes in [sketch(of: dataset.values).encoded, QuantileSketch().encoded] {
            var decodedPrefixes: [Int] = []
            for length in 0..<bytes.count where QuantileSketch(encoded: Array(bytes.prefix(length))) != nil {
                decodedPrefixes.append(length)
            }
            #expect(decodedPrefixes.isEmpty, "\(dataset): prefixes of \(decodedPrefixes.prefix(5)) of \(bytes.count) bytes decoded")
        }
    }

    @Test func decodingRejectsTrailingBytes() {
        var rng = SeededGenerator(seed: 0x7A11)
        for bytes in [sketch(of: SketchDataset.bimodal.values).encoded, QuantileSketch().encoded, sketch(of: [-1, 0]).encoded] {
            #expect(QuantileSketch(encoded: bytes) != nil)
            #expect(QuantileSketch(encoded: bytes + [0]) == nil, "one zero byte too many")
            #expect(QuantileSketch(encoded: bytes + [1]) == nil)
            #expect(QuantileSketch(encoded: bytes + [0x80]) == nil)
            #expect(QuantileSketch(encoded: bytes + bytes) == nil)
            for _ in 0..<50 {
                let tail = (0..<Int.random(in: 1...20, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                #expect(QuantileSketch(encoded: bytes + tail) == nil, "trailing \(tail) accepted")
            }
        }
    }

    @Test func decodingRejectsMoreThanMaxBins() throws {
        let ones = { (n: Int) in Array(repeating: UInt64(1), count: n) }
        // Exactly maxBins bins is a valid store…
        let full = try #require(QuantileSketch(encoded: handEncoded(positive: (0, ones(QuantileSketch.maxBins)))))
        #expect(full.count == UInt64(QuantileSketch.maxBins))
        #expect(QuantileSketch(encoded: handEncoded(negative: (-100, ones(QuantileSketch.maxBins)))) != nil)
        // …one more is not, in either store.
        #expect(QuantileSketch(encoded: handEncoded(positive: (0, ones(QuantileSketch.maxBins + 1)))) == nil)
        #expect(QuantileSketch(encoded: handEncoded(negative: (0, ones(QuantileSketch.maxBins + 1)))) == nil)
        // A huge bin count with nothing behind it is refused without allocating it.
        #expect(QuantileSketch(encoded: [1, 0] + leb128(UInt64.max) + [0]) == nil)
        #expect(QuantileSketch(encoded: [1, 0, 0] + leb128(1 << 40) + [0, 1]) == nil)
    }

    @Test func decodingRejectsCountsThatOverflow() {
        // Within one store.
        #expect(QuantileSketch(encoded: handEncoded(positive: (0, [UInt64.max, 1]))) == nil)
        // Across the zero count and both stores: `count` would trap.
        #expect(QuantileSketch(encoded: handEncoded(zeros: UInt64.max, positive: (0, [1]))) == nil)
        #expect(QuantileSketch(encoded: handEncoded(negative: (0, [UInt64.max]), positive: (0, [1]))) == nil)
        // A count that no bucket (Int64 readings) can hold, which a merge with fresh
        // readings would overflow.
        #expect(QuantileSketch(encoded: handEncoded(zeros: UInt64(Int64.max) + 1)) == nil)
        #expect(QuantileSketch(encoded: handEncoded(zeros: UInt64(Int64.max) - 1, positive: (0, [1]))) != nil)
    }

    @Test func decodingRejectsOffsetsNoDoubleCanReach() throws {
        // Keys of finite magnitudes lie within about ±37 000; a store outside that range
        // (e.g. at Int32.min) made merge and add overflow Int32 arithmetic.
        for offset: Int64 in [Int64(Int32.min), Int64(Int32.max) - 1, -1_000_000, 1_000_000, Int64.min, Int64.max] {
            let bytes = handEncoded(positive: (offset, [1]))
            if let decoded = QuantileSketch(encoded: bytes) {
                Issue.record("offset \(offset) decoded")
                exercise(decoded)  // trapped (Int32 overflow) before the fix
            }
        }
        // The extreme keys themselves are fine, and so is their use.
        let extremes = sketch(of: [.leastNonzeroMagnitude, -.greatestFiniteMagnitude])
        var decoded = try #require(QuantileSketch(encoded: extremes.encoded))
        #expect(decoded == extremes)
        exercise(decoded)
        decoded.add(.greatestFiniteMagnitude)
        decoded.add(-.leastNonzeroMagnitude)
        #expect(decoded.count == 4)
    }

    @Test func randomGarbageNeverCrashes() {
        var rng = SeededGenerator(seed: 0x6A4B)
        var decodedCount = 0
        for trial in 0..<5_000 {
            var bytes = (0..<Int.random(in: 0...40, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if trial % 2 == 0, !bytes.isEmpty { bytes[0] = 1 }
            guard let decoded = QuantileSketch(encoded: bytes) else { continue }
            decodedCount += 1
            #expect(QuantileSketch(encoded: decoded.encoded) == decoded)
            exercise(decoded)
        }
        // Mostly structured near-valid encodings: small bin counts, offsets and counts from
        // ordinary to extreme, so that many decode and their use is exercised.
        let offsets: [Int64] = [
            0, -36_900, -36_800, 35_100, 35_200, Int64(Int32.min), Int64(Int32.max), Int64.min, Int64.max, -40_000, 40_000,
        ]
        let counts: [UInt64] = [0, 1, 2, 1_000, UInt64(Int64.max), UInt64.max, 1 << 62]
        for _ in 0..<3_000 {
            func store() -> (offset: Int64, counts: [UInt64])? {
                guard Bool.random(using: &rng) else { return nil }
                let offset = Bool.random(using: &rng)
                    ? Int64.random(in: -300...300, using: &rng) : offsets.randomElement(using: &rng)!
                return (offset, (0..<Int.random(in: 1...4, using: &rng)).map { _ in
                    Bool.random(using: &rng) ? UInt64.random(in: 0...100, using: &rng) : counts.randomElement(using: &rng)!
                })
            }
            let zeros = Bool.random(using: &rng) ? UInt64.random(in: 0...100, using: &rng) : counts.randomElement(using: &rng)!
            guard let decoded = QuantileSketch(encoded: handEncoded(zeros: zeros, negative: store(), positive: store())) else { continue }
            decodedCount += 1
            exercise(decoded)
        }
        #expect(decodedCount > 1_000, "only \(decodedCount) garbage inputs decoded: the use of decoded sketches is barely exercised")
    }
}
