import SensorCore

/// libFuzzer target: the journal's record payload reader (what replay trusts once the
/// checksum matched: a corruption the CRC cannot see, or a record of another version);
/// what it accepts survives being written and read again. The input's first byte picks
/// the record's kind (odd: with a batch mark, as its magic says), the rest is what
/// follows the record's header.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let marked = data[0] & 1 == 1
    guard let (readings, mark) = JournalRecord.decodePayload(UnsafeRawBufferPointer(start: data + 1, count: size - 1), marked: marked) else {
        return 0
    }
    var record: [UInt8] = []
    JournalRecord.encode(readings, mark: mark, into: &record)
    let again = record.withUnsafeBytes {
        JournalRecord.decodePayload(UnsafeRawBufferPointer(rebasing: $0[JournalRecord.headerSize...]), marked: mark != nil)
    }
    guard let again else { preconditionFailure("a decoded record does not read back") }
    precondition(again.mark == mark && again.readings.count == readings.count, "a decoded record reads back otherwise")
    for (first, second) in zip(readings, again.readings) {
        precondition(first.device == second.device && first.metric == second.metric, "a reading's series changed")
        precondition(first.timestamp == second.timestamp && first.seq == second.seq, "a reading's time or seq changed")
        precondition(first.value.bitPattern == second.value.bitPattern, "a reading's value changed")
    }
    return 0
}
