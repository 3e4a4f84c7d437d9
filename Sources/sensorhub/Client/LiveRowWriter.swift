#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import Foundation
import SensorCore

/// Prints `tail`'s rows as they arrive, each line handed to the kernel at once (one
/// `write(2)`, no stdio buffer), so a pipe sees every row when it happens (CONTRACT.md §3).
///
/// - `json`: one contract row object per line (the row form of `query --format json`).
/// - `table`: the `query` table (``RecordPrinter/tableCells(_:)``) with widths fixed in
///   advance, since later rows are not known yet: a header once, then one line per row.
struct LiveRowWriter {
    let format: TailCommand.Format
    private var wroteHeader = false

    init(format: TailCommand.Format) {
        self.format = format
    }

    /// Column widths for ``AggregateRecord/columns``: names, RFC 3339 times, counts and
    /// numbers as `TextTable.readableNumber` prints them (`-1.23457e+09`).
    private static let widths = [16, 12, 20, 20, 8] + Array(repeating: 12, count: 11)

    /// Writes one row; a reader that went away (EPIPE) ends the command quietly with 0.
    mutating func write(_ record: AggregateRecord) throws {
        var line = ""
        switch format {
        case .json:
            line.reserveCapacity(360)
            record.appendJSON(to: &line)
            line += "\n"
        case .table:
            if !wroteHeader {
                line = Self.tableLine(AggregateRecord.columns) + Self.tableLine(Self.widths.map { String(repeating: "-", count: $0) })
                wroteHeader = true
            }
            line += Self.tableLine(RecordPrinter.tableCells(record))
        }
        try writeToStandardOutput(line)
    }

    private static func tableLine(_ cells: [String]) -> String {
        TextTable.line(cells, widths: widths, rightAligned: RecordPrinter.aggregateNumbers)
    }
}

/// Hands `text` to stdout with write(2) until all of it is taken; EPIPE (the reader went
/// away) ends the command with 0.
private func writeToStandardOutput(_ text: String) throws {
    var text = text
    try text.withUTF8 { bytes in
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let written = write(STDOUT_FILENO, base + offset, bytes.count - offset)
            if written >= 0 {
                offset += written
            } else if errno == EPIPE {
                throw ExitCode.success
            } else if errno != EINTR {
                throw CommandFailure.fail("cannot write to stdout: \(String(cString: strerror(errno)))")
            }
        }
    }
}
