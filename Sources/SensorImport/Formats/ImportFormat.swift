/// The file formats `sensorhub import` reads (CONTRACT §6).
public enum ImportFormat: String, Sendable, CaseIterable, Codable {
    /// Native JSON objects: one, an array of them, or a sequence of them.
    case json
    /// One native JSON object per line.
    case ndjson
    /// A SenML pack (an array of records; base fields carry over).
    case senml
    /// InfluxDB line protocol.
    case lp
    /// CSV with a header row, long or wide form.
    case csv

    /// The format an extension names (`.gz` looked through), or nil.
    public init?(path: String) {
        var name = Substring(path.lowercased())
        if name.hasSuffix(".gz") { name = name.dropLast(3) }
        guard let dot = name.lastIndex(of: "."), !name[dot...].contains("/") else { return nil }
        switch name[name.index(after: dot)...] {
        case "json": self = .json
        case "ndjson", "jsonl": self = .ndjson
        case "senml": self = .senml
        case "lp": self = .lp
        case "csv": self = .csv
        default: return nil
        }
    }

    /// The format the first bytes of an input look like: `[` SenML when its first record
    /// has a SenML key and no `device`, else JSON; `{` NDJSON when the first line is a
    /// whole object, else JSON; a first line with commas naming `device` CSV; else line
    /// protocol.
    public init(sniffing prefix: ArraySlice<UInt8>) {
        var bytes = prefix
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        let text = String(decoding: bytes, as: UTF8.self)
        let trimmed = text.drop(while: { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" })
        let firstLine = trimmed.prefix(while: { $0 != "\n" })
        if trimmed.hasPrefix("[") {
            let head = trimmed.prefix(4096)
            let senmlKey = ["\"bn\"", "\"n\"", "\"bt\"", "\"v\""].contains { head.contains($0) }
            self = senmlKey && !head.contains("\"device\"") ? .senml : .json
        } else if trimmed.hasPrefix("{") {
            let line = firstLine.trimmingSuffix { $0 == " " || $0 == "\r" || $0 == "\t" }
            self = line.hasSuffix("}") ? .ndjson : .json
        } else if firstLine.contains(","), firstLine.lowercased().split(separator: ",").contains(where: { $0.trimmingSuffix { $0 == "\r" } == "device" || $0 == "\"device\"" }) {
            self = .csv
        } else {
            self = .lp
        }
    }
}

extension Substring {
    fileprivate func trimmingSuffix(while predicate: (Character) -> Bool) -> Substring {
        var result = self
        while let last = result.last, predicate(last) { result = result.dropLast() }
        return result
    }
}
