/// The percentiles every aggregate row reports, each within 1% of the true value at its
/// rank (see ``QuantileSketch``).
public struct Percentiles: Sendable, Equatable {
    public var p50: Double
    public var p90: Double
    public var p95: Double
    public var p99: Double

    public init(p50: Double, p90: Double, p95: Double, p99: Double) {
        self.p50 = p50
        self.p90 = p90
        self.p95 = p95
        self.p99 = p99
    }

    /// The quantiles, in the order of the fields (``ranks(count:)`` spells them out again,
    /// as constants).
    public static let quantiles: [Double] = [0.50, 0.90, 0.95, 0.99]

    /// The 0-based ranks of the four quantiles among `count` (> 0) values, ascending:
    /// ⌊q·(count−1)⌋, the convention of ``QuantileSketch/quantile(_:clampedTo:)``.
    static func ranks(count: UInt64) -> SIMD4<UInt64> {
        let last = Double(count - 1)
        func rank(_ quantile: Double) -> UInt64 { UInt64((quantile * last).rounded(.down)) }
        return SIMD4(rank(0.50), rank(0.90), rank(0.95), rank(0.99))
    }

    init(_ values: SIMD4<Double>) {
        self.init(p50: values[0], p90: values[1], p95: values[2], p99: values[3])
    }
}
