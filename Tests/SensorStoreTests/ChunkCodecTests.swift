import SensorCore
@testable import SensorStore
import Testing

/// The chunk codec keeps every bucket bit for bit, whichever record form it picks.
@Suite struct ChunkCodecTests {
    static let resolution = res("10s")
    static let chunkStart: Int64 = 1_764_165_600_000_000

    /// Encodes one bucket per window index given, and reads them back.
    private func roundTrip(_ buckets: [(index: Int, stats: BucketStats)]) throws -> (bytes: [UInt8], read: [(index: Int, stats: BucketStats)]) {
        var bytes: [UInt8] = [ChunkCodec.version]
        var scratch: [UInt8] = []
        for (index, stats) in buckets {
            let start = Self.chunkStart + Int64(index) * Self.resolution.microseconds
            ChunkCodec.append(index: index, windowStart: start, stats: stats, to: &bytes, sketchBytes: &scratch, decimal: true)
        }
        let read = try bytes.withUnsafeBytes { raw throws(ChunkCodec.Damage) in
            var reader = try ChunkCodec.Reader(raw, chunkStart: Self.chunkStart, resolution: Self.resolution)
            var read: [(index: Int, stats: BucketStats)] = []
            while let bucket = try reader.next() {
                // The sketch's bytes point into `raw`: decode while they are valid.
                read.append((bucket.index, bucket.decoded))
                // Read in place, the statistics and percentiles are the decoded bucket's.
                let (stats, percentiles) = bucket.statsAndPercentiles
                #expect(stats.withoutSketch == bucket.decoded.withoutSketch)
                #expect(percentiles == bucket.decoded.percentiles)
            }
            return read
        }
        return (bytes, read)
    }

    /// A random bucket of `count` readings (values of every kind: integers, decimals,
    /// negatives, zeros, equal values, equal times), built by adds and merges in a random
    /// order, as a flush and later merges build them.
    private func randomBucket(count: Int, windowStart: Int64, using rng: inout SeededGenerator) -> BucketStats {
        var parts: [BucketStats] = [BucketStats()]
        for _ in 0..<count {
            let value: Double = switch Int.random(in: 0..<5, using: &rng) {
            case 0: Double(Int.random(in: -50...150, using: &rng))
            case 1: Double(Int.random(in: -50_000...150_000, using: &rng)) / 1000
            case 2: Double.random(in: -1e6...1e6, using: &rng)
            case 3: 0
            default: 21.5
            }
            let time = windowStart + (Bool.random(using: &rng) ? 5_000_000 : Int64.random(in: 0..<10_000_000, using: &rng))
            if Int.random(in: 0..<3, using: &rng) == 0 { parts.append(BucketStats()) }
            parts[parts.count - 1].add(value, at: time)
        }
        parts.shuffle(using: &rng)
        return parts.reduce(BucketStats()) { $0.merging($1) }
    }

    @Test(arguments: [1, 2, 3, 10] as [Int])
    func everyBucketReadsBackExactly(count: Int) throws {
        var rng = SeededGenerator(seed: UInt64(count) * 977)
        for _ in 0..<200 {
            let indexes = (0..<32).filter { _ in Bool.random(using: &rng) }
            let buckets = indexes.map { index in
                (index, randomBucket(count: count, windowStart: Self.chunkStart + Int64(index) * Self.resolution.microseconds, using: &rng))
            }
            let (_, read) = try roundTrip(buckets)
            try #require(read.count == buckets.count)
            for ((index, stats), bucket) in zip(buckets, read) {
                #expect(bucket.index == index)
                #expect(bucket.stats.isIdentical(to: stats), "\(count) readings: \(stats) read back as \(bucket.stats)")
                #expect(bucket.stats.percentiles == stats.percentiles)
            }
        }
    }

    @Test func oneAndTwoReadingsTakeTheShortForms() throws {
        let start = Self.chunkStart
        var one = BucketStats()
        one.add(21.375, at: start + 2_000_000)
        var two = one
        two.add(19.5, at: start + 7_000_000)
        var lateFirst = BucketStats()
        lateFirst.add(19.5, at: start + 7_000_000)
        lateFirst.add(21.375, at: start + 2_000_000)
        var three = two
        three.add(20, at: start + 9_000_000)

        #expect(ChunkCodec.shortestForm(of: one) == .oneReading)
        #expect(ChunkCodec.shortestForm(of: two) == .firstThenLast)
        #expect(ChunkCodec.shortestForm(of: three) == .decimal)
        var other = BucketStats()
        other.add(19.5, at: start + 7_000_000)
        let forms = [ChunkCodec.shortestForm(of: lateFirst), ChunkCodec.shortestForm(of: other.merging(one))]
        #expect(forms.allSatisfy { $0 != .any }, "two readings in either order: \(forms)")

        // head byte + offset varint (3 bytes for 2 s) + value.
        #expect(try roundTrip([(0, one)]).bytes.count == 1 + 1 + 3 + 8)
        #expect(try roundTrip([(0, two)]).bytes.count == 1 + 1 + 3 + 4 + 16)
        // version + head + count + offsets (3 + 4 bytes) + scale, min, three distances
        // (2 + 1 + 2 + 2) + sum, its bits, mean's bits + m2 + sketch length + sketch.
        #expect(try roundTrip([(0, three)]).bytes.count < 60)
        for stats in [one, two, lateFirst, other.merging(one), three] {
            #expect(try roundTrip([(0, stats)]).read.map(\.stats) == [stats])
        }
    }

    /// Sensor values of a few decimals take form 4, read back bit for bit: ten readings of
    /// a steady sensor in at most 40 bytes. Values it cannot write as whole units (a third,
    /// -0, more than six decimals) take form 0.
    @Test func decimalValuesTakeTheDecimalForm() throws {
        var rng = SeededGenerator(seed: 5)
        let start = Self.chunkStart
        for places in 0...6 {
            for _ in 0..<300 {
                var stats = BucketStats()
                let unit = [1.0, 10, 100, 1_000, 10_000, 100_000, 1_000_000][places]
                let base = Double(Int.random(in: -100_000...100_000, using: &rng))
                for reading in 0..<Int.random(in: 3...40, using: &rng) {
                    let value = (base + Double(Int.random(in: -500...500, using: &rng))) / unit
                    stats.add(value, at: start + Int64(reading) * 250_000)
                }
                #expect(ChunkCodec.shortestForm(of: stats) == .decimal)
                let read = try roundTrip([(0, stats)]).read
                #expect(read.count == 1 && read[0].stats.isIdentical(to: stats), "\(places) places: \(stats) read back as \(read)")
            }
        }
        var steady = BucketStats()
        for second in 0..<10 {
            steady.add(21.5 + Double(Int.random(in: -8...8, using: &rng)) / 100, at: start + Int64(second) * 1_000_000)
        }
        let (bytes, read) = try roundTrip([(0, steady)])
        #expect(bytes.count - 1 <= 40, "ten readings of a steady sensor: \(bytes.count - 1) bytes")
        #expect(read[0].stats.isIdentical(to: steady))
        // Whole numbers, but a sum and a mean far in bits from what they predict: form 4
        // would take more than form 0's 56 bytes of values, so form 0 is written.
        let far = BucketStats(count: 3, sum: -0.0, min: -4e15, max: 4e15, mean: -1e300, m2: 1,
                              firstTimestamp: start, first: 4e15, lastTimestamp: start + 1, last: 4e15)
        #expect(ChunkCodec.shortestForm(of: far) == .decimal)
        let (farBytes, farRead) = try roundTrip([(0, far)])
        #expect(farBytes[1] >> 5 == ChunkCodec.Form.any.rawValue && farRead[0].stats.isIdentical(to: far))
        for odd: [Double] in [[1.0 / 3, 2, 3], [-0.0, 1, 2], [1e-9, 1, 2], [0.1234567, 1, 2], [1e300, 1, 2]] {
            var stats = BucketStats()
            for (second, value) in odd.enumerated() { stats.add(value, at: start + Int64(second) * 1_000_000) }
            #expect(ChunkCodec.shortestForm(of: stats) == .any, "\(odd)")
            #expect(try roundTrip([(0, stats)]).read[0].stats.isIdentical(to: stats))
        }
    }

    @Test func damagedRecordsAreRefused() {
        func read(_ bytes: [UInt8]) -> String? {
            bytes.withUnsafeBytes { raw -> String? in
                do {
                    var reader = try ChunkCodec.Reader(raw, chunkStart: Self.chunkStart, resolution: Self.resolution)
                    while try reader.next() != nil {}
                    return nil
                } catch {
                    return "\(error)"
                }
            }
        }
        let nan = withUnsafeBytes(of: Double.nan.bitPattern.littleEndian) { Array($0) }
        let value = withUnsafeBytes(of: (1.5).bitPattern.littleEndian) { Array($0) }
        #expect(read([1, 1 << 5 | 3, 0] + value) == nil)
        #expect(read([1, 1 << 5 | 3, 0] + nan)?.contains("not finite") == true)
        #expect(read([1, 1 << 5 | 3, 0] + value.prefix(7))?.contains("cut off") == true)
        #expect(read([1, 5 << 5 | 3, 0] + value)?.contains("form 5") == true)
        #expect(read([1, 4 << 5 | 3, 3, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0] + value + [0])?.contains("decimal scale 7") == true)
        #expect(read([1, 4 << 5 | 3, 3, 0, 0, 2, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0, 0, 0, 0, 0] + value + [0])?
            .contains("out of range") == true)
        #expect(read([1, 1 << 5 | 3, 0x80, 0xAD, 0xE2, 0x04] + value)?.contains("past the window") == true, "10,000,000 µs")
        #expect(read([1, 1 << 5 | 3, 0] + value + [1 << 5 | 3, 0] + value)?.contains("out of order") == true)
        #expect(read([2])?.contains("version") == true)
    }
}

extension BucketStats {
    /// Equal bit for bit, field by field (`==` takes -0 for 0), and the same sketch.
    func isIdentical(to other: BucketStats) -> Bool {
        count == other.count && firstTimestamp == other.firstTimestamp && lastTimestamp == other.lastTimestamp
            && sketch == other.sketch
            && zip([sum, min, max, mean, m2, first, last], [other.sum, other.min, other.max, other.mean, other.m2, other.first, other.last])
                .allSatisfy { $0.bitPattern == $1.bitPattern }
    }
}
