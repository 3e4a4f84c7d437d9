/// What a framer found next in an input: a record (its bytes were copied out) starting on
/// `line`, or a record past ``maxRecordBytes`` that was skipped.
enum FramedRecord: Equatable {
    case record(line: Int)
    case oversize(line: Int)

    /// Longest record taken (a line, a CSV row, a JSON array element): a longer one is
    /// rejected (`too_large`) and skipped without being held.
    static let maxRecordBytes = 1 << 20
}

/// Splits an input into records: lines, CSV rows or JSON array elements.
protocol RecordFramer {
    /// The line the next record starts on (1-based).
    var line: Int { get }
    /// The next record's bytes into `record`, or nil at the end of the input.
    mutating func next(_ window: inout InputWindow, into record: inout [UInt8]) throws(ImportInputError) -> FramedRecord?
}

/// Lines (NDJSON, line protocol): a record per `\n`-terminated line, a `\r` before it and
/// blank lines dropped.
struct LineFramer: RecordFramer {
    var line: Int

    init(line: Int = 1) {
        self.line = line
    }

    mutating func next(_ window: inout InputWindow, into record: inout [UInt8]) throws(ImportInputError) -> FramedRecord? {
        // Bytes after `start` known to hold no newline: never scanned twice.
        var scanned = 0
        while true {
            var index = window.start + scanned
            while index < window.end, window[index] != 0x0A { index += 1 }
            if index < window.end {
                if let found = take(&window, window.start..<index, consuming: index - window.start + 1, into: &record) { return found }
                scanned = 0
                continue
            }
            scanned = window.available
            if scanned > FramedRecord.maxRecordBytes { return try skipOversize(&window) }
            if try window.fill() { continue }
            // The last line has no newline.
            guard window.available > 0 else { return nil }
            return take(&window, window.start..<window.end, consuming: window.available, into: &record)
        }
    }

    /// Takes one line (without its `\n`); nil for a blank one.
    private mutating func take(_ window: inout InputWindow, _ range: Range<Int>, consuming: Int, into record: inout [UInt8]) -> FramedRecord? {
        let number = line
        line += 1
        switch window.takeLine(range, consuming: consuming, into: &record, isBlank: { $0.allSatisfy { $0 == 0x20 || $0 == 0x09 } }) {
        case .content: return .record(line: number)
        case .oversize: return .oversize(line: number)
        case .blank: return nil
        }
    }

    /// Drops the rest of a line too long to hold.
    private mutating func skipOversize(_ window: inout InputWindow) throws(ImportInputError) -> FramedRecord {
        let number = line
        try window.skipPastLineEnd()
        line += 1
        return .oversize(line: number)
    }
}
