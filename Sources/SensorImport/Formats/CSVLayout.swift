import SensorCore

/// What the header row of a CSV file says its rows hold (CONTRACT §6):
/// - long form: columns `device`, `metric`, `value`, optional `ts` and `seq`, in any
///   order; one reading per row;
/// - wide form: `device`, optional `ts`, and every other column a metric named after it;
///   one reading per non-empty cell. A column whose first non-empty value is not a number
///   (a label, a status) is not a metric: it is listed in ``ignoredColumns`` and skipped.
///   These decisions are part of where a resumed import continues (``decisions``), so a
///   resumed import reads every row as the interrupted one did.
///
/// Each row becomes native JSON text (an object, or an array for wide rows) for the
/// payload decoder, so a CSV reading obeys exactly the rules of every other format.
struct CSVLayout {
    enum Form {
        case long(device: Int, metric: Int, value: Int, ts: Int?, seq: Int?)
        case wide(device: Int, ts: Int?, metrics: [(column: Int, name: String)])
    }

    let form: Form
    let header: [String]
    /// Wide form: for each metric column decided so far (by its first non-empty value),
    /// whether it is a metric.
    var decisions: [Int: Bool] = [:]

    /// Wide form: columns left out because their first value is not a number.
    var ignoredColumns: [String] {
        decisions.filter { !$0.value }.keys.sorted().map { header[$0] }
    }

    /// Reads the header's column names (trimmed, case kept for metric names).
    /// - Throws: a message when the header names no `device` column, or a wide-form
    ///   column is not a valid metric name.
    init(header: [String]) throws(CSVHeaderError) {
        self.header = header
        let names = header.map { $0.trimmingCharacters(in: " \t").lowercased() }
        func column(_ name: String) -> Int? { names.firstIndex(of: name) }
        guard let device = column("device") else {
            throw CSVHeaderError("the header has no device column (long form: device,metric,value[,ts][,seq]; wide form: device[,ts],<metric>,…)")
        }
        let ts = column("ts")
        if let metric = column("metric"), let value = column("value") {
            form = .long(device: device, metric: metric, value: value, ts: ts, seq: column("seq"))
            return
        }
        var metrics: [(Int, String)] = []
        for (index, name) in header.enumerated() where index != device && index != ts {
            let metric = name.trimmingCharacters(in: " \t")
            guard metric.utf8.withContiguousStorageIfAvailable({ ReadingNames.isValidMetric(UnsafeRawBufferPointer($0)) }) ?? false else {
                throw CSVHeaderError("column \(index + 1) \"\(name.prefix(80))\" is not a valid metric name (1-128 of A-Z a-z 0-9 . _ -), so the header is neither the long form (device,metric,value) nor the wide form")
            }
            metrics.append((index, metric))
        }
        guard !metrics.isEmpty else { throw CSVHeaderError("the header has no metric column (wide form: device[,ts],<metric>,…)") }
        form = .wide(device: device, ts: ts, metrics: metrics)
    }

    /// The JSON text of a row's readings into `json`: an object (long form) or an array
    /// of objects (wide form, possibly empty). Nil, with a reason, when the row has another
    /// number of fields than the header.
    mutating func json(of values: [UInt8], _ bounds: [Range<Int>], into json: inout [UInt8]) -> String? {
        guard bounds.count == header.count else {
            return "the row has \(bounds.count) fields, the header \(header.count)"
        }
        json.removeAll(keepingCapacity: true)
        switch form {
        case let .long(device, metric, value, ts, seq):
            appendObject(values, device: bounds[device], metric: .field(bounds[metric]), value: bounds[value],
                         ts: ts.map { bounds[$0] }, seq: seq.map { bounds[$0] }, into: &json)
        case let .wide(device, ts, metrics):
            json.append(0x5B)
            var first = true
            for (column, name) in metrics {
                let text = Self.trimmed(values, bounds[column])
                guard !text.isEmpty else { continue }
                if decisions[column] == nil { decisions[column] = Self.isJSONNumber(text) }
                guard decisions[column] == true else { continue }
                if !first { json.append(0x2C) }
                first = false
                appendObject(values, device: bounds[device], metric: .name(name), value: bounds[column],
                             ts: ts.map { bounds[$0] }, seq: nil, into: &json)
            }
            json.append(0x5D)
        }
        return nil
    }

    private enum MetricSource {
        case field(Range<Int>)
        case name(String)
    }

    private func appendObject(_ values: [UInt8], device: Range<Int>, metric: MetricSource, value: Range<Int>, ts: Range<Int>?, seq: Range<Int>?, into json: inout [UInt8]) {
        json += #"{"device":"#.utf8
        Self.appendString(Self.trimmed(values, device), to: &json)
        json += #","metric":"#.utf8
        switch metric {
        case .field(let range): Self.appendString(Self.trimmed(values, range), to: &json)
        case .name(let name): Self.appendString(ArraySlice(name.utf8), to: &json)
        }
        json += #","value":"#.utf8
        Self.appendScalar(Self.trimmed(values, value), to: &json)
        if let ts, case let text = Self.trimmed(values, ts), !text.isEmpty {
            json += #","ts":"#.utf8
            Self.appendScalar(text, to: &json)
        }
        if let seq, case let text = Self.trimmed(values, seq), !text.isEmpty {
            json += #","seq":"#.utf8
            Self.appendScalar(text, to: &json)
        }
        json.append(0x7D)
    }

    /// A number as itself, anything else as a string (which the decoder then refuses or,
    /// for ts, reads as RFC 3339).
    private static func appendScalar(_ text: ArraySlice<UInt8>, to json: inout [UInt8]) {
        if isJSONNumber(text) { json += text } else { appendString(text, to: &json) }
    }

    private static func appendString(_ text: ArraySlice<UInt8>, to json: inout [UInt8]) {
        json.append(0x22)
        for byte in text {
            switch byte {
            case 0x22: json += [0x5C, 0x22]
            case 0x5C: json += [0x5C, 0x5C]
            case ..<0x20: json += Array("\\u00\(byte < 16 ? "0" : "")\(String(byte, radix: 16))".utf8)
            default: json.append(byte)
            }
        }
        json.append(0x22)
    }

    static func trimmed(_ values: [UInt8], _ range: Range<Int>) -> ArraySlice<UInt8> {
        var slice = values[range]
        while let first = slice.first, first == 0x20 || first == 0x09 { slice = slice.dropFirst() }
        while let last = slice.last, last == 0x20 || last == 0x09 { slice = slice.dropLast() }
        return slice
    }

    /// Whether `text` is a number in JSON's grammar.
    static func isJSONNumber(_ text: ArraySlice<UInt8>) -> Bool {
        var index = text.startIndex
        func digits() -> Int {
            let start = index
            while index < text.endIndex, text[index] &- 0x30 < 10 { index += 1 }
            return index - start
        }
        if index < text.endIndex, text[index] == 0x2D { index += 1 }
        let whole = index
        guard digits() > 0 else { return false }
        if text[whole] == 0x30, index - whole > 1 { return false }
        if index < text.endIndex, text[index] == 0x2E {
            index += 1
            guard digits() > 0 else { return false }
        }
        if index < text.endIndex, text[index] == 0x65 || text[index] == 0x45 {
            index += 1
            if index < text.endIndex, text[index] == 0x2B || text[index] == 0x2D { index += 1 }
            guard digits() > 0 else { return false }
        }
        return index == text.endIndex
    }
}

/// A CSV header SensorHub cannot read: the file is not imported.
struct CSVHeaderError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        let characters = Set(set)
        var slice = Substring(self)
        while let first = slice.first, characters.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, characters.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}
