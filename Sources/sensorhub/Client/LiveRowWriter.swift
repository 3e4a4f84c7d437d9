#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import ArgumentParser
import Foundation
import SensorCore

/// Prints `tail`'s rows as they arrive, each line handed to the kernel at once (one
/// `write(2)`, no stdio buffer), so a pipe sees every row when it happens (CONTRACT.md §3).
///
/// - `json`: one contract row object per line (the row form of `query --format json`).
/// - `table`: the `query` table's columns with widths fixed in advance, since later rows
///   are not known yet: a header once, then one aligned line per row; a cell wider than
///   its column pushes the rest of its line to the right.
struct LiveRowWriter {
    enum Style {
        case json
        case table
    }

    let style: Style
    private var wroteHeader = false

    init(style: Style) {
        self.style = style
    }

    /// Column widths for ``AggregateRecord/columns``: names, RFC 3339 times, counts and
    /// numbers as `TextTable.readableNumber` prints them (`-1.23457e+09`).
    private static let widths = [16, 12, 20, 20, 8] + Array(repeating: 12, count: 11)

    /// Writes one row; a reader that went away (EPIPE) ends the command quietly with 0.
    mutating func write(_ record: AggregateRecord) throws {
        var line = ""
        switch style {
        case .json:
            line.reserveCapacity(360)
            record.appendJSON(to: &line)
            line += "\n"
        case .table:
            if !wroteHeader {
                line = Self.tableLine(AggregateRecord.columns) + Self.tableLine(Self.widths.map { String(repeating: "-", count: $0) })
                wroteHeader = true
            }
            let cells = record.cells.enumerated().map { index, cell in index >= 5 ? TextTable.readableNumber(cell) : cell }
            line += Self.tableLine(cells)
        }
        try Self.writeAll(line)
    }

    /// Cells padded to their column (text left, counts and numbers right), trailing spaces cut.
    private static func tableLine(_ cells: [String]) -> String {
        var out = ""
        for (index, cell) in cells.enumerated() {
            let padding = String(repeating: " ", count: max(0, widths[index] - cell.count))
            if index > 0 { out += "  " }
            out += index >= 4 ? padding + cell : cell + padding
        }
        while out.hasSuffix(" ") { out.removeLast() }
        return out + "\n"
    }

    private static func writeAll(_ text: String) throws {
        var text = text
        try text.withUTF8 { bytes in
            guard let base = bytes.baseAddress else { return }
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(STDOUT_FILENO, base + offset, bytes.count - offset)
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
}
