/// Everything one flush writes, committed by ``SensorStore/write(_:)`` in a single
/// transaction: either all of it is stored or none of it.
public struct FlushBatch: Sendable {
    public var buckets: [BucketDelta]
    public var series: [SeriesDelta]

    public init(buckets: [BucketDelta] = [], series: [SeriesDelta] = []) {
        self.buckets = buckets
        self.series = series
    }

    public var isEmpty: Bool { buckets.isEmpty && series.isEmpty }
}
