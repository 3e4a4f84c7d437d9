import SensorCore

/// libFuzzer target: a bare number on a `sensors/<device>/<metric>` topic, and every
/// topic-named payload form (a native object, SenML) on the same topic.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let context = DecodeContext(device: "d", metric: "m", arrivalTime: 1_764_165_600_000_000, maxReadings: 1_000)
    for format in [PayloadFormat.bareNumber, .json, .senml] {
        checkDecoded(data, size, format: format, context: context)
    }
    return 0
}
