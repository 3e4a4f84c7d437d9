import SensorCore

/// libFuzzer target: the journal's record payload reader (what replay trusts once the
/// checksum matched: a corruption the CRC cannot see, or a record of another version);
/// what it accepts survives being written and read again.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let readings = JournalRecord.decodePayload(UnsafeRawBufferPointer(start: data, count: size)) else { return 0 }
    var record: [UInt8] = []
    JournalRecord.encode(readings, into: &record)
    let again = record.withUnsafeBytes { JournalRecord.decodePayload(UnsafeRawBufferPointer(rebasing: $0[JournalRecord.headerSize...])) }
    precondition(again?.count == readings.count, "a decoded record does not read back")
    for (first, second) in zip(readings, again ?? []) {
        precondition(first.device == second.device && first.metric == second.metric && first.timestamp == second.timestamp
                     && first.seq == second.seq && first.value.bitPattern == second.value.bitPattern, "a reading changed")
    }
    return 0
}
