import Foundation

/// A plain-text table with aligned columns, for terminals.
struct TextTable {
    let header: [String]
    let rows: [[String]]
    /// Column indices printed flush right (numbers).
    let rightAligned: Set<Int>

    var rendered: String {
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        if rows.isEmpty { return "(no rows)\n" }
        var out = Self.line(header, widths: widths, rightAligned: rightAligned)
        out += Self.line(widths.map { String(repeating: "-", count: $0) }, widths: widths, rightAligned: rightAligned)
        for row in rows { out += Self.line(row, widths: widths, rightAligned: rightAligned) }
        return out
    }

    /// One line: cells padded to `widths` (a wider cell pushes the rest right), joined by
    /// two spaces, trailing spaces cut.
    static func line(_ cells: [String], widths: [Int], rightAligned: Set<Int>) -> String {
        var out = cells.enumerated().map { index, cell in
            let padding = String(repeating: " ", count: max(0, widths[index] - cell.count))
            return rightAligned.contains(index) ? padding + cell : cell + padding
        }.joined(separator: "  ")
        while out.hasSuffix(" ") { out.removeLast() }
        return out + "\n"
    }

    /// A number with at most 6 significant digits (`21.3333`, `1.23457e+09`); empty stays "-".
    static func readableNumber(_ cell: String) -> String {
        guard !cell.isEmpty else { return "-" }
        guard let value = Double(cell) else { return cell }
        return String(format: "%.6g", value)
    }
}
