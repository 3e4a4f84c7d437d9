/// CSV rows (RFC 4180): a row ends at a line end outside quotes, so a quoted field may
/// hold commas, doubled quotes and line ends; `\r\n` and `\n` both end a row, a byte
/// order mark at the start is dropped, blank lines are skipped. ``fields(of:)`` splits a
/// row into its unquoted fields.
struct CSVFramer: RecordFramer {
    var line: Int
    private var atStart: Bool

    init(line: Int = 1, atStart: Bool = true) {
        self.line = line
        self.atStart = atStart
    }

    /// Where a row's scan stands, kept across refills of the window.
    private struct Scan {
        var inQuotes = false
        /// Inside quotes, a quote was just seen: `""` is a quote, anything else closes.
        var quotePending = false
        var atFieldStart = true
        var newlines = 0

        /// Takes one byte; true when it ends the row (a line end outside quotes).
        mutating func take(_ byte: UInt8) -> Bool {
            if inQuotes {
                if quotePending {
                    quotePending = false
                    if byte == 0x22 { return false }
                    inQuotes = false
                } else {
                    if byte == 0x22 { quotePending = true } else if byte == 0x0A { newlines += 1 }
                    return false
                }
            }
            switch byte {
            case 0x0A: return true
            case 0x2C: atFieldStart = true
            case 0x22 where atFieldStart:
                inQuotes = true
                atFieldStart = false
            default: atFieldStart = false
            }
            return false
        }
    }

    mutating func next(_ window: inout InputWindow, into record: inout [UInt8]) throws(ImportInputError) -> FramedRecord? {
        if atStart {
            while window.available < 3, try window.fill() {}
            if window.available >= 3, window[window.start] == 0xEF, window[window.start + 1] == 0xBB, window[window.start + 2] == 0xBF {
                window.consume(3)
            }
            atStart = false
        }
        var scanned = 0
        var scan = Scan()
        while true {
            var index = window.start + scanned
            var ended = false
            while index < window.end {
                if scan.take(window[index]) {
                    ended = true
                    break
                }
                index += 1
            }
            if ended {
                if let found = take(&window, window.start..<index, consuming: index - window.start + 1, newlines: scan.newlines, into: &record) { return found }
                scanned = 0
                scan = Scan()
                continue
            }
            scanned = window.available
            if scanned > FramedRecord.maxRecordBytes { return try skipOversize(&window, newlines: scan.newlines) }
            if try window.fill() { continue }
            guard window.available > 0 else { return nil }
            return take(&window, window.start..<window.end, consuming: window.available, newlines: scan.newlines, into: &record)
        }
    }

    private mutating func take(_ window: inout InputWindow, _ range: Range<Int>, consuming: Int, newlines: Int, into record: inout [UInt8]) -> FramedRecord? {
        let number = line
        line += 1 + newlines
        switch window.takeLine(range, consuming: consuming, into: &record, isBlank: \.isEmpty) {
        case .content: return .record(line: number)
        case .oversize: return .oversize(line: number)
        case .blank: return nil
        }
    }

    /// Drops a row too long to hold, up to the next line end whatever the quotes say: an
    /// unclosed quote costs this one reject, not the rest of the file.
    private mutating func skipOversize(_ window: inout InputWindow, newlines: Int) throws(ImportInputError) -> FramedRecord {
        let number = line
        try window.skipPastLineEnd()
        line += 1 + newlines
        return .oversize(line: number)
    }

    /// The fields of a row: unquoted content appended to `values`, one range per field.
    /// Returns false for a row whose quotes do not close or that has bytes after a
    /// closing quote (`"a"b`).
    static func fields(of row: [UInt8], values: inout [UInt8], bounds: inout [Range<Int>]) -> Bool {
        values.removeAll(keepingCapacity: true)
        bounds.removeAll(keepingCapacity: true)
        var index = 0
        let count = row.count
        while true {
            let fieldStart = values.count
            if index < count, row[index] == 0x22 {
                index += 1
                var closed = false
                while index < count {
                    let byte = row[index]
                    index += 1
                    if byte == 0x22 {
                        if index < count, row[index] == 0x22 {
                            values.append(0x22)
                            index += 1
                        } else {
                            closed = true
                            break
                        }
                    } else {
                        values.append(byte)
                    }
                }
                guard closed, index == count || row[index] == 0x2C else { return false }
            } else {
                while index < count, row[index] != 0x2C {
                    values.append(row[index])
                    index += 1
                }
            }
            bounds.append(fieldStart..<values.count)
            if index >= count { return true }
            index += 1 // the comma
        }
    }
}
