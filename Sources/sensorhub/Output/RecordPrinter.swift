import Foundation
import SensorCore

/// Prints query results as a table, one JSON array or CSV (CONTRACT.md §3).
enum RecordPrinter {
    static func printAggregates(_ records: [AggregateRecord], format: OutputFormat) throws {
        switch format {
        case .json: try printJSON(records)
        case .csv: printCSV(header: AggregateRecord.columns, rows: records.map(\.cells))
        case .table:
            // People read rounded numbers; json and csv keep every digit.
            let rows = records.map { record in
                record.cells.enumerated().map { index, cell in index >= 5 ? TextTable.readableNumber(cell) : cell }
            }
            print(TextTable(header: AggregateRecord.columns, rows: rows, rightAligned: Set(4..<16)).rendered, terminator: "")
        }
    }

    static func printDevices(_ records: [DeviceRecord], format: OutputFormat) throws {
        switch format {
        case .json: try printJSON(records)
        case .csv: printCSV(header: DeviceRecord.columns, rows: records.map(\.cells))
        case .table:
            print(TextTable(header: DeviceRecord.columns, rows: records.map(\.cells), rightAligned: [3]).rendered, terminator: "")
        }
    }

    private static func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let data = try encoder.encode(value)
        FileHandle.standardOutput.write(data)
        FileHandle.standardOutput.write(Data("\n".utf8))
    }

    private static func printCSV(header: [String], rows: [[String]]) {
        var out = header.map(csvField).joined(separator: ",") + "\n"
        for row in rows {
            out += row.map(csvField).joined(separator: ",") + "\n"
        }
        FileHandle.standardOutput.write(Data(out.utf8))
    }

    /// RFC 4180 quoting, only where needed.
    private static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
