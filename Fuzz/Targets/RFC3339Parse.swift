import SensorCore

/// libFuzzer target: the RFC 3339 parser on arbitrary bytes; a time it accepts within the
/// readings' range formats and parses back to itself.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let micros = RFC3339.parse(UnsafeRawBufferPointer(start: data, count: size)) else { return 0 }
    if (RFC3339.minAcceptedMicros...RFC3339.maxAcceptedMicros).contains(micros) {
        precondition(RFC3339.parse(RFC3339.format(micros)) == micros, "format and parse disagree for \(micros)")
    }
    _ = TimeText.parse(String(decoding: UnsafeRawBufferPointer(start: data, count: size), as: UTF8.self))
    return 0
}
