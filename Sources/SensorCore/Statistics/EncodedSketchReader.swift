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
        guard zeros + negative.total + positive.total == UInt64(clamping: count) else { return nil }
        return SketchRanks.percentiles(
            negativeTotal: negative.total, zeroCount: zeros, positiveTotal: positive.total, clampedTo: bounds,
            negativeKeys: { negative.keys(atRanks: $0, in: bytes) }, positiveKeys: { positive.keys(atRanks: $0, in: bytes) })
    }

    /// The counts of one encoded store, as a sequence.
    private struct EncodedCounts: Sequence, IteratorProtocol {
        var reader: Varint.Reader
        var remaining: Int

        mutating func next() -> UInt64? {
            guard remaining > 0 else { return nil }
            remaining -= 1
            return reader.next()
        }
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

        /// ``SketchRanks/keys(atRanks:offset:counts:binCount:)`` over the encoded counts.
        func keys(atRanks ranks: SIMD4<UInt64>, in bytes: UnsafeRawBufferPointer) -> SIMD4<Int32> {
            SketchRanks.keys(atRanks: ranks, offset: offset, counts: EncodedCounts(reader: Varint.Reader(bytes: bytes, offset: countsStart), remaining: binCount), binCount: binCount)
        }
    }
}
