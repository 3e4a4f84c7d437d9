/// Percentiles read straight from a ``QuantileSketch/encoded`` sketch, without building
/// the sketch: no allocation, one pass over each store's bins. A query whose windows are
/// single stored buckets answers every row this way.
///
/// Refuses exactly what ``QuantileSketch/init(encoded:)-(UnsafeRawBufferPointer)`` refuses,
/// and answers exactly what the decoded sketch's ``QuantileSketch/percentiles(clampedTo:)``
/// answers (tested against it).
public enum EncodedSketchReader {
    /// Nil for an empty sketch, bytes the decoder would refuse, or a sketch that does not
    /// count exactly `count` values (its bucket's count: a bucket written before sketches
    /// existed has an empty one), as ``BucketStats/percentiles`` does.
    public static func percentiles(of bytes: UnsafeRawBufferPointer, count: Int64, clampedTo bounds: ClosedRange<Double>? = nil) -> Percentiles? {
        guard bytes.first == QuantileSketch.encodingVersion else { return nil }
        var reader = Varint.Reader(bytes: bytes, offset: 1)
        guard let zeros = reader.next(),
              let negative = StoreSpan(reading: &reader),
              let positive = StoreSpan(reading: &reader),
              reader.isAtEnd
        else { return nil }
        let limit = UInt64(Int64.max)
        guard zeros <= limit, negative.total <= limit - zeros, positive.total <= limit - zeros - negative.total else {
            return nil
        }
        let total = zeros + negative.total + positive.total
        guard total > 0, total == UInt64(clamping: count) else { return nil }
        let ranks = Percentiles.ranks(count: total)

        var values = SIMD4<Double>(repeating: 0)
        // Negatives, most negative first: value rank r is key rank (negative.total − 1 − r)
        // among the ascending keys. Those key ranks descend as r ascends.
        var negativeRanks = SIMD4<UInt64>(repeating: 0)
        var positiveRanks = SIMD4<UInt64>(repeating: 0)
        for index in 0..<4 {
            let rank = ranks[index]
            if rank < negative.total {
                negativeRanks[index] = negative.total - 1 - rank
            } else if rank >= negative.total + zeros {
                positiveRanks[index] = rank - negative.total - zeros
            }
        }
        let negativeKeys = negative.keys(atRanks: negativeRanks, in: bytes)
        let positiveKeys = positive.keys(atRanks: positiveRanks, in: bytes)
        for index in 0..<4 {
            let rank = ranks[index]
            var value: Double
            if rank < negative.total {
                value = -QuantileSketch.value(ofKey: negativeKeys[index])
            } else if rank < negative.total + zeros {
                value = 0
            } else {
                value = QuantileSketch.value(ofKey: positiveKeys[index])
            }
            if let bounds { value = Swift.min(bounds.upperBound, Swift.max(bounds.lowerBound, value)) }
            values[index] = value
        }
        return Percentiles(values)
    }

    /// Where one encoded bin store lies: its first key, and its counts' bytes.
    private struct StoreSpan {
        var offset: Int32 = 0
        var binCount = 0
        var countsStart = 0
        var total: UInt64 = 0

        /// Reads the store's header and sums its counts, with the decoder's checks.
        init?(reading reader: inout Varint.Reader) {
            guard let binCount = reader.next(), binCount <= UInt64(QuantileSketch.maxBins) else { return nil }
            self.binCount = Int(binCount)
            guard binCount > 0 else { return }
            guard let zigzagged = reader.next() else { return nil }
            let offset = Varint.unzigzag(zigzagged)
            guard offset >= Int64(QuantileSketch.key(of: .leastNonzeroMagnitude)),
                  offset <= Int64(QuantileSketch.key(of: .greatestFiniteMagnitude)) - Int64(binCount) + 1
            else { return nil }
            self.offset = Int32(offset)
            countsStart = reader.offset
            for _ in 0..<binCount {
                guard let count = reader.next() else { return nil }
                let (sum, overflow) = total.addingReportingOverflow(count)
                guard !overflow else { return nil }
                total = sum
            }
        }

        /// The keys holding the values of the given 0-based ranks (in ascending key order),
        /// in one walk over the counts; ranks past the store give its last key, as
        /// `BinStore.key(atRank:)` does.
        func keys(atRanks ranks: SIMD4<UInt64>, in bytes: UnsafeRawBufferPointer) -> SIMD4<Int32> {
            var keys = SIMD4<Int32>(repeating: offset + Int32(Swift.max(0, binCount - 1)))
            guard binCount > 0 else { return keys }
            // The ranks are monotonic (quantiles ascend; negatives reverse them): resolve
            // them in ascending order, one comparison per bin.
            let order: SIMD4<Int> = ranks[0] <= ranks[3] ? SIMD4(0, 1, 2, 3) : SIMD4(3, 2, 1, 0)
            var next = 0
            var reader = Varint.Reader(bytes: bytes, offset: countsStart)
            var seen: UInt64 = 0
            for index in 0..<binCount {
                seen += reader.next() ?? 0
                while next < 4, seen > ranks[order[next]] {
                    keys[order[next]] = offset + Int32(index)
                    next += 1
                }
                if next == 4 { break }
            }
            return keys
        }
    }
}
