import SensorCore

/// libFuzzer target: the seq window's decoder (what `series.seq_window` holds); a window
/// it accepts encodes back to the same bytes and keeps answering after more seqs.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard var window = SeqWindow(encoded: bytes, latestTimestamp: 0) else { return 0 }
    // Version 3 in its canonical form encodes back to the same bytes; versions 1 and 2 (and
    // a bitmap that is a run) become that form, which then stays as it is.
    let canonical = window.encoded
    precondition(SeqWindow(encoded: canonical)?.encoded == canonical, "the canonical encoding changes")
    precondition(SeqWindow(encoded: canonical) == window, "a decoded window encodes as another")
    for (offset, byte) in bytes.prefix(16).enumerated() {
        let seq = window.highest &+ UInt64(byte) &- 128
        let counted = window.admit(seq, at: Int64(offset) * 1_000 - 8_000)
        if counted { precondition(!window.isNew(seq, at: Int64(offset) * 1_000 - 8_000), "a counted seq is new again") }
    }
    precondition(SeqWindow(encoded: window.encoded) == window, "the window does not survive its encoding")
    return 0
}
