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

    mutating func next(_ window: inout InputWindow, into record: inout [UInt8]) throws(ImportInputError) -> FramedRecord? {
        if atStart {
            while window.available < 3, try window.fill() {}
            if window.available >= 3, window[window.start] == 0xEF, window[window.start + 1] == 0xBB, window[window.start + 2] == 0xBF {
                window.consume(3)
            }
            atStart = false
        }
        var scanned = 0
        var inQuotes = false
        var newlines = 0
        while true {
            var index = window.start + scanned
            while index < window.end {
                let byte = window[index]
                if byte == 0x22 {
                    inQuotes.toggle()
                } else if byte == 0x0A {
                    if !inQuotes { break }
                    newlines += 1
                }
                index += 1
            }
            if index < window.end {
                if let found = take(&window, window.start..<index, consuming: index - window.start + 1, newlines: newlines, into: &record) { return found }
                scanned = 0
                newlines = 0
                inQuotes = false
                continue
            }
            scanned = window.available
            if scanned > FramedRecord.maxRecordBytes { return try skipOversize(&window, inQuotes: inQuotes, newlines: newlines) }
            if try window.fill() { continue }
            guard window.available > 0 else { return nil }
            return take(&window, window.start..<window.end, consuming: window.available, newlines: newlines, into: &record)
        }
    }

    private mutating func take(_ window: inout InputWindow, _ range: Range<Int>, consuming: Int, newlines: Int, into record: inout [UInt8]) -> FramedRecord? {
        var contentEnd = range.upperBound
        if contentEnd > range.lowerBound, window[contentEnd - 1] == 0x0D { contentEnd -= 1 }
        let number = line
        line += 1 + newlines
        let blank = contentEnd == range.lowerBound
        let oversize = contentEnd - range.lowerBound > FramedRecord.maxRecordBytes
        if !blank, !oversize { window.copy(range.lowerBound..<contentEnd, into: &record) }
        window.consume(consuming)
        if oversize { return .oversize(line: number) }
        return blank ? nil : .record(line: number)
    }

    /// Drops the rest of a row too long to hold.
    private mutating func skipOversize(_ window: inout InputWindow, inQuotes: Bool, newlines: Int) throws(ImportInputError) -> FramedRecord {
        let number = line
        var inQuotes = inQuotes
        var newlines = newlines
        while true {
            var index = window.start
            var ended = false
            while index < window.end {
                let byte = window[index]
                index += 1
                if byte == 0x22 { inQuotes.toggle() } else if byte == 0x0A {
                    if !inQuotes { ended = true; break }
                    newlines += 1
                }
            }
            window.consume(index - window.start)
            if ended { break }
            if !(try window.fill()) { break }
        }
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
