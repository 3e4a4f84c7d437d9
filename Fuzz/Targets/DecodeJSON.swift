import SensorCore

/// libFuzzer target: the json decoder on arbitrary bytes (see scripts/fuzz.sh).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    checkDecoded(data, size, format: .json, context: DecodeContext(arrivalTime: 1_764_165_600_000_000, maxReadings: 1_000))
    return 0
}
