/// JSON documents of records too large to hold (a `.json` array of native objects, a
/// `.senml` pack): each element of a top-level array, or each top-level value when the
/// file is a sequence of objects, is one record. Only the nesting is followed here
/// (brackets, strings and their escapes); each record is validated by its decoder.
///
/// Lenient between records: commas, brackets and whitespace separate them, so a missing
/// comma or several arrays one after another still read; what is inside a record must be
/// valid JSON.
struct JSONElementFramer: RecordFramer {
    var line: Int
    /// Inside a top-level array (the position after a record, for resuming).
    private(set) var inArray: Bool
    private var atStart: Bool

    init(line: Int = 1, inArray: Bool = false, atStart: Bool = true) {
        self.line = line
        self.inArray = inArray
        self.atStart = atStart
    }

    /// How far an element's scan got: resumable after the window is refilled.
    private struct Scan {
        var length = 0
        var depth = 0
        var inString = false
        var escaped = false
        var newlines = 0
        /// Whether the element is an object, array or string (else a bare scalar); known
        /// from its first byte, kept since that byte may be dropped (oversize).
        var structured: Bool?
    }

    mutating func next(_ window: inout InputWindow, into record: inout [UInt8]) throws(ImportInputError) -> FramedRecord? {
        guard try skipSeparators(&window) else { return nil }
        let number = line
        var scan = Scan()
        var oversize = false
        while true {
            if let length = Self.continueScan(&scan, window) {
                line += scan.newlines
                if oversize {
                    window.consume(length)
                    return .oversize(line: number)
                }
                window.copy(window.start..<(window.start + length), into: &record)
                window.consume(length)
                return .record(line: number)
            }
            if scan.length > FramedRecord.maxRecordBytes || oversize {
                // Drop what was scanned; the scan state goes on from the next byte.
                oversize = true
                window.consume(scan.length)
                scan.length = 0
            }
            if !(try window.fill()) {
                // The input ends inside the element: what there is is the record.
                line += scan.newlines
                if oversize || scan.length == 0 {
                    window.consume(scan.length)
                    return .oversize(line: number)
                }
                let length = scan.length
                window.copy(window.start..<(window.start + length), into: &record)
                window.consume(length)
                return .record(line: number)
            }
        }
    }

    /// Skips whitespace, a byte order mark, commas and the top-level brackets before the
    /// next element; false at the end of the input.
    private mutating func skipSeparators(_ window: inout InputWindow) throws(ImportInputError) -> Bool {
        while true {
            if window.available == 0, !(try window.fill()) { return false }
            if atStart {
                if window.available < 3, !window.atEnd, try window.fill() { continue }
                if window.available >= 3, window[window.start] == 0xEF, window[window.start + 1] == 0xBB, window[window.start + 2] == 0xBF {
                    window.consume(3)
                }
                atStart = false
                continue
            }
            let byte = window[window.start]
            switch byte {
            case 0x0A: line += 1
            case 0x20, 0x09, 0x0D, 0x2C: break
            case 0x5B where !inArray: inArray = true
            case 0x5D where inArray: inArray = false
            default: return true
            }
            window.consume(1)
        }
    }

    /// Scans on from `scan.length`; returns the element's length once it is complete.
    private static func continueScan(_ scan: inout Scan, _ window: InputWindow) -> Int? {
        var index = window.start + scan.length
        if scan.structured == nil {
            let first = window[window.start]
            scan.structured = first == 0x7B || first == 0x5B || first == 0x22
        }
        let structured = scan.structured == true
        while index < window.end {
            let byte = window[index]
            index += 1
            if byte == 0x0A { scan.newlines += 1 }
            if scan.inString {
                if scan.escaped {
                    scan.escaped = false
                } else if byte == 0x5C {
                    scan.escaped = true
                } else if byte == 0x22 {
                    scan.inString = false
                    if scan.depth == 0 { scan.length = index - window.start; return scan.length }
                }
                continue
            }
            if !structured {
                // A bare scalar ends before a separator.
                if byte == 0x2C || byte == 0x5D || byte == 0x7D || byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 {
                    // A stray `}` (or `]` outside an array) is a record of its own, for
                    // its decoder to reject: an empty one would never move on.
                    if index - 1 == window.start { scan.length = 1; return 1 }
                    if byte == 0x0A { scan.newlines -= 1 }
                    scan.length = index - 1 - window.start
                    return scan.length
                }
                continue
            }
            switch byte {
            case 0x22: scan.inString = true
            case 0x7B, 0x5B: scan.depth += 1
            case 0x7D, 0x5D:
                scan.depth -= 1
                if scan.depth <= 0 { scan.length = index - window.start; return scan.length }
            default: break
            }
        }
        scan.length = index - window.start
        return nil
    }
}
