/// Percentiles read straight from a ``QuantileSketch/encoded`` sketch, without building
/// the sketch: no allocation, one pass over each store's bins. A query whose windows are
/// single stored buckets answers every row this way.
///
/// Refuses exactly what ``QuantileSketch/init(encoded:)-(UnsafeRawBufferPointer)`` refuses
/// (both start from the same checked layout), and answers exactly what the decoded
/// sketch's ``QuantileSketch/percentiles(clampedTo:)`` answers (tested against it).
public enum EncodedSketchReader {
    /// Nil for an empty sketch, bytes the decoder would refuse, or a sketch that does not
    /// count exactly `count` values (its bucket's count: a bucket written before sketches
    /// existed has an empty one), as ``BucketStats/percentiles`` does.
    public static func percentiles(of bytes: UnsafeRawBufferPointer, count: Int64, clampedTo bounds: ClosedRange<Double>? = nil) -> Percentiles? {
        guard let sketch = EncodedSketch(bytes), sketch.count == UInt64(clamping: count) else { return nil }
        return SketchRanks.percentiles(
            negativeTotal: sketch.negative.total, zeroCount: sketch.zeroCount, positiveTotal: sketch.positive.total,
            clampedTo: bounds,
            negativeKeys: { sketch.negative.keys(atRanks: $0, in: bytes) },
            positiveKeys: { sketch.positive.keys(atRanks: $0, in: bytes) })
    }
}
