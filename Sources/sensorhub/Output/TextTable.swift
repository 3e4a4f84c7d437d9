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
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                let padding = String(repeating: " ", count: widths[index] - cell.count)
                return rightAligned.contains(index) ? padding + cell : cell + padding
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) + "\n"
        }
        if rows.isEmpty { return "(no rows)\n" }
        var out = line(header)
        out += line(widths.map { String(repeating: "-", count: $0) })
        for row in rows { out += line(row) }
        return out
    }

    /// A number with at most 6 significant digits (`21.3333`, `1.23457e+09`); empty stays "-".
    static func readableNumber(_ cell: String) -> String {
        guard !cell.isEmpty else { return "-" }
        guard let value = Double(cell) else { return cell }
        return String(format: "%.6g", value)
    }
}
