import Foundation
import SensorCore

/// Prints query results as a table, one JSON array or CSV (CONTRACT.md §3).
enum RecordPrinter {
    static func printAggregates(_ records: [AggregateRecord], format: OutputFormat) throws {
        switch format {
        case .json: write(JSONText.array(records) + "\n")
        case .csv: printCSV(header: AggregateRecord.columns, rows: records.map(\.cells))
        case .table:
            let table = TextTable(header: AggregateRecord.columns, rows: records.map(tableCells), rightAligned: aggregateNumbers)
            print(table.rendered, terminator: "")
        }
    }

    /// The aggregate columns printed flush right: count and every statistic.
    static let aggregateNumbers = Set(4..<16)

    /// A row's cells for a table: people read rounded numbers (json and csv keep every digit).
    static func tableCells(_ record: AggregateRecord) -> [String] {
        record.cells.enumerated().map { index, cell in index >= 5 ? TextTable.readableNumber(cell) : cell }
    }

    static func printDevices(_ records: [DeviceRecord], format: OutputFormat) throws {
        switch format {
        case .json: write(JSONText.array(records) + "\n")
        case .csv: printCSV(header: DeviceRecord.columns, rows: records.map(\.cells))
        case .table:
            print(TextTable(header: DeviceRecord.columns, rows: records.map(\.cells), rightAligned: [3]).rendered, terminator: "")
        }
    }

    static func printAlerts(_ records: [AlertRecord], format: OutputFormat) throws {
        switch format {
        case .json: write(JSONText.array(records) + "\n")
        case .csv: printCSV(header: AlertRecord.columns, rows: records.map(\.cells))
        case .table:
            print(TextTable(header: AlertRecord.columns, rows: records.map(\.cells), rightAligned: [5]).rendered, terminator: "")
        }
    }

    private static func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    private static func printCSV(header: [String], rows: [[String]]) {
        var out = ""
        out.reserveCapacity((rows.count + 1) * 200)
        for cells in [header] + rows {
            for (index, cell) in cells.enumerated() {
                if index > 0 { out += "," }
                out += csvField(cell)
            }
            out += "\n"
        }
        write(out)
    }

    /// RFC 4180 quoting, only where needed.
    private static func csvField(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") }) else {
            return text
        }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
