internal import Glibc

/// A sliding window over an input's bytes: a reader looks at `bytes[start..<end]`, asks
/// for more with ``fill()`` when a record does not end in what is there, and consumes
/// what it used with ``consume(_:)``. Holds at most one record plus one read's worth, so
/// memory does not depend on the input's size.
struct InputWindow {
    /// Bytes read from the input at a time.
    static let readSize = 1 << 20

    let input: any ByteInput
    private(set) var bytes: [UInt8] = []
    private(set) var start = 0
    private(set) var end = 0
    /// Offset in the input's bytes of `bytes[start]`.
    private(set) var offset: Int64
    /// Whether the input has no more bytes.
    private(set) var atEnd = false

    init(input: any ByteInput, offset: Int64 = 0) {
        self.input = input
        self.offset = offset
    }

    var available: Int { end - start }

    /// Reads more bytes after `end`, first moving what is unconsumed to the front.
    /// Returns false when the input had nothing more.
    mutating func fill() throws(ImportInputError) -> Bool {
        guard !atEnd else { return false }
        if start > 0 {
            bytes.withUnsafeMutableBytes { raw in
                raw.baseAddress!.copyMemory(from: raw.baseAddress! + start, byteCount: end - start)
            }
            end -= start
            start = 0
        }
        if bytes.count - end < Self.readSize { bytes += Self.zeros(Self.readSize - (bytes.count - end)) }
        let got = try bytes.withUnsafeMutableBytes { [end, input] raw in
            Result { () throws(ImportInputError) -> Int in
                try input.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[end..<(end + Self.readSize)]))
            }
        }.get()
        if got == 0 {
            atEnd = true
            return false
        }
        end += got
        return true
    }

    /// `count` zeros, by memset: the room a read needs past `end` (a whole read's worth the
    /// first time, after that the few bytes a moved record left short). Appended one zero
    /// at a time (`repeatElement`), a read's worth took a debug build tens of milliseconds
    /// a reader, most of the import tests' time.
    private static func zeros(_ count: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0 { memset(buffer.baseAddress!, 0, count) }
            initialized = count
        }
    }

    /// Drops `count` bytes from the front.
    mutating func consume(_ count: Int) {
        start += count
        offset += Int64(count)
    }

    @inline(__always) subscript(index: Int) -> UInt8 { bytes[index] }

    /// Copies `bytes[range]` into `record` (replacing its content).
    func copy(_ range: Range<Int>, into record: inout [UInt8]) {
        record.removeAll(keepingCapacity: true)
        record.append(contentsOf: bytes[range])
    }

    /// What ``takeLine(_:consuming:into:isBlank:)`` found.
    enum TakenLine {
        case content, blank, oversize
    }

    /// Takes a line-ended record: `bytes[range]` without a trailing `\r` is copied into
    /// `record` unless `isBlank` says it is or it is longer than a record may be; then
    /// `consuming` bytes (the line end included) are consumed.
    mutating func takeLine(_ range: Range<Int>, consuming: Int, into record: inout [UInt8],
                           isBlank: (ArraySlice<UInt8>) -> Bool) -> TakenLine {
        var end = range.upperBound
        if end > range.lowerBound, bytes[end - 1] == 0x0D { end -= 1 }
        let content = bytes[range.lowerBound..<end]
        let taken: TakenLine = content.count > FramedRecord.maxRecordBytes ? .oversize : isBlank(content) ? .blank : .content
        if taken == .content { copy(range.lowerBound..<end, into: &record) }
        consume(consuming)
        return taken
    }

    /// Drops everything up to and including the next `\n` (or to the end): what is left
    /// of a record too long to hold.
    mutating func skipPastLineEnd() throws(ImportInputError) {
        while true {
            if let newline = bytes[start..<end].firstIndex(of: 0x0A) {
                consume(newline - start + 1)
                return
            }
            consume(available)
            if !(try fill()) { return }
        }
    }

    /// Skips the input forward to `target` (resuming): seeks where the file allows.
    mutating func skip(to target: Int64) throws(ImportInputError) {
        guard target > offset else { return }
        let buffered = Int64(available)
        if target - offset <= buffered {
            consume(Int(target - offset))
            return
        }
        let current = offset + buffered
        start = 0
        end = 0
        try input.skip(to: target, from: current)
        offset = target
    }
}
