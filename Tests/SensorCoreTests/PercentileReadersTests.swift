import Foundation
import Testing
@testable import SensorCore

// The two ways queries get percentiles without merging sketches — reading an encoded
// sketch in place, and a sliding window of sketches — must answer exactly what the
// decoded (or merged) sketch answers, and those answers are within 1% of the exact
// quantiles of the raw values.

/// Value sets of different shapes: positive, negative, mixed with zeros, constant, wide.
private func valueSets(seed: UInt64) -> [[Double]] {
    var random = SeededGenerator(seed: seed)
    func uniform(_ range: ClosedRange<Double>, _ n: Int) -> [Double] { (0..<n).map { _ in Double.random(in: range, using: &random) } }
    return [
        uniform(1...100, 200),
        uniform(-50...(-0.5), 37),
        uniform(-10...10, 90) + [0, 0, 0],
        [21.5, 21.5, 21.5],
        [42],
        uniform(1e-6...1e9, 400),
        (0..<300).map { _ in exp(Double.random(in: -3...8, using: &random)) * (Bool.random(using: &random) ? 1 : -1) },
    ]
}

private func sketch(of values: [Double]) -> QuantileSketch {
    var sketch = QuantileSketch()
    for value in values { sketch.add(value) }
    return sketch
}

private func exact(_ values: [Double]) -> [Double] {
    let sorted = values.sorted()
    return Percentiles.quantiles.map { sorted[Int(($0 * Double(sorted.count - 1)).rounded(.down))] }
}

private func array(_ p: Percentiles) -> [Double] { [p.p50, p.p90, p.p95, p.p99] }

@Suite struct PercentileReadersTests {
    @Test(arguments: [1, 2, 3] as [UInt64])
    func encodedReaderAnswersWhatTheDecodedSketchAnswers(seed: UInt64) throws {
        for values in valueSets(seed: seed) {
            let built = sketch(of: values)
            let bounds = values.min()!...values.max()!
            let decoded = try #require(built.percentiles(clampedTo: bounds))
            let read = built.encoded.withUnsafeBytes {
                EncodedSketchReader.percentiles(of: $0, count: Int64(values.count), clampedTo: bounds)
            }
            #expect(read == decoded, "\(values.count) values")
            for (got, want) in zip(array(decoded), exact(values)) {
                #expect(abs(got - want) <= 0.01 * abs(want) * (1 + 1e-9), "\(got) vs exact \(want)")
            }
        }
    }

    /// ``Percentiles/ranks(count:)`` spells the quantiles out again (as constants): it must
    /// give the ranks of ``Percentiles/quantiles``.
    @Test func ranksAreThoseOfTheQuantiles() {
        for count in UInt64(1)...2_000 {
            let ranks = Percentiles.ranks(count: count)
            let want = Percentiles.quantiles.map { UInt64(($0 * Double(count - 1)).rounded(.down)) }
            #expect([ranks[0], ranks[1], ranks[2], ranks[3]] == want, "\(count) values")
        }
    }

    @Test func encodedReaderRefusesWhatTheDecoderRefusesAndIncompleteSketches() {
        let values = [1.5, 2.5, -3, 0]
        let bytes = sketch(of: values).encoded
        func read(_ bytes: [UInt8], count: Int64 = 4) -> Percentiles? {
            bytes.withUnsafeBytes { EncodedSketchReader.percentiles(of: $0, count: count) }
        }
        #expect(read(bytes) != nil)
        #expect(read(bytes, count: 5) == nil, "a sketch counting fewer values than its bucket")
        #expect(read(QuantileSketch().encoded, count: 0) == nil, "empty")
        #expect(read([]) == nil)
        #expect(read([3] + bytes.dropFirst()) == nil, "another version")
        #expect(read(bytes + [0]) == nil, "trailing bytes")
        for cut in 1..<bytes.count {
            #expect(read(Array(bytes.prefix(cut))) == nil, "truncated to \(cut) bytes")
            #expect(QuantileSketch(encoded: Array(bytes.prefix(cut))) == nil)
        }
    }

    /// A window sliding over 60 sketches, 12 at a time: each position answers what the
    /// merge of its 12 sketches answers.
    @Test(arguments: [4, 5] as [UInt64])
    func slidingSketchAnswersWhatTheMergeOfItsWindowAnswers(seed: UInt64) throws {
        var random = SeededGenerator(seed: seed)
        let parts: [[Double]] = (0..<60).map { index in
            // Drifting values, some parts negative or empty, so bins enter and leave.
            let n = index % 7 == 3 ? 0 : Int.random(in: 1...25, using: &random)
            return (0..<n).map { _ in Double.random(in: -20...80, using: &random) + Double(index) }
        }
        let sketches = parts.map(sketch(of:))
        var sliding = SlidingSketch()
        let width = 12
        for end in 0..<sketches.count {
            sliding.add(sketches[end])
            if end >= width { sliding.remove(sketches[end - width]) }
            let window = parts[Swift.max(0, end - width + 1)...end].flatMap { $0 }
            guard !window.isEmpty else {
                #expect(sliding.percentiles() == nil)
                continue
            }
            var merged = QuantileSketch()
            for part in sketches[Swift.max(0, end - width + 1)...end] { merged.merge(part) }
            let bounds = window.min()!...window.max()!
            #expect(sliding.count == UInt64(window.count))
            #expect(sliding.percentiles(clampedTo: bounds) == merged.percentiles(clampedTo: bounds), "window ending at \(end)")
            let got = try #require(sliding.percentiles(clampedTo: bounds))
            for (value, want) in zip(array(got), exact(window)) {
                #expect(abs(value - want) <= 0.01 * abs(want) * (1 + 1e-9), "\(value) vs exact \(want)")
            }
        }
    }
}
