import SensorCore

/// libFuzzer target: the bucket encoding of `set_aside_buckets`; what it accepts survives
/// being encoded and decoded again (the decoder also takes varints longer than needed, so
/// the bytes themselves may come back shorter).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let stats = BucketStats(encoded: bytes) else { return 0 }
    let canonical = stats.encoded
    precondition(BucketStats(encoded: canonical)?.encoded == canonical, "decoded stats do not survive their encoding")
    _ = stats.storageProblem
    return 0
}
