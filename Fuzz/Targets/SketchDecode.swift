import SensorCore

/// libFuzzer target: the quantile sketch's decoder (what SQLite columns hold); a sketch it
/// accepts answers percentiles, merges with itself, and it and the merge survive being encoded
/// and decoded again (varints longer than needed are accepted, so the bytes may come back shorter).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let sketch = QuantileSketch(encoded: bytes) else { return 0 }
    precondition(QuantileSketch(encoded: sketch.encoded) == sketch, "a decoded sketch does not survive its encoding")
    if let percentiles = sketch.percentiles() {
        precondition(percentiles.p50 <= percentiles.p90 && percentiles.p90 <= percentiles.p95 && percentiles.p95 <= percentiles.p99,
                     "percentiles out of order")
    }
    var doubled = sketch
    doubled.merge(sketch)
    precondition(doubled.count == 2 * sketch.count, "a merge lost values")
    precondition(doubled.storedBins <= 2 * QuantileSketch.maxBins, "a merge passed the bin bound")
    if doubled.count <= UInt64(Int64.max) {
        precondition(QuantileSketch(encoded: doubled.encoded) == doubled, "a merged sketch does not survive its encoding")
    }
    return 0
}
