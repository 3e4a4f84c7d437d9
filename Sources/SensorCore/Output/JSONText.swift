/// Writes the contract's rows as JSON text directly: Foundation's `JSONEncoder` spent more
/// time building its intermediate tree than the query took (40,000 rows in ~0.3 s).
/// Numbers use Swift's shortest round-trip form, which is valid JSON for finite values.
public enum JSONText {
    /// A JSON array of the rows, `[]` when empty.
    public static func array(_ records: [AggregateRecord]) -> String {
        var array = AggregateArray()
        array.append(records)
        return array.finish()
    }

    /// A JSON array of aggregate rows written a part at a time: a streamed answer sends
    /// each page's text (``take()``) before the next page is read.
    public struct AggregateArray {
        private var text = "["
        private var empty = true

        public init() {}

        public mutating func append(_ records: some Collection<AggregateRecord>) {
            text.reserveCapacity(text.utf8.count + records.count * 340 + 1)
            for record in records {
                if !empty { text += "," }
                empty = false
                record.appendJSON(to: &text)
            }
        }

        /// The text written since the last take.
        public mutating func take() -> String {
            defer { text = "" }
            return text
        }

        /// The rest of the text, the array closed.
        public mutating func finish() -> String {
            text += "]"
            return take()
        }
    }

    /// A JSON array of device rows, `[]` when empty.
    public static func array(_ records: [DeviceRecord]) -> String {
        var out = "["
        for (index, record) in records.enumerated() {
            if index > 0 { out += "," }
            record.appendJSON(to: &out)
        }
        out += "]"
        return out
    }

    /// A JSON array of alerts, `[]` when empty.
    public static func array(_ records: [AlertRecord]) -> String {
        "[" + records.map(\.json).joined(separator: ",") + "]"
    }

    /// Appends `text` as a JSON string literal, escaping what JSON requires.
    static func appendString(_ text: String, to out: inout String) {
        let needsEscaping = text.utf8.contains { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }
        out += "\""
        if !needsEscaping {
            out += text
        } else {
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                case _ where scalar.value < 0x20:
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                default: out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }

    /// Appends `prefix` (the comma and the quoted key with its colon) and the number.
    static func appendMember(_ prefix: String, _ value: Double?, to out: inout String) {
        out += prefix
        appendNumber(value, to: &out)
    }

    static func appendNumber(_ value: Double?, to out: inout String) {
        guard let value, value.isFinite else {
            out += "null"
            return
        }
        // The same text as `description`, written through a buffer on the stack rather
        // than a String made for each number (a 40,000-row answer writes 440,000).
        value.write(to: &out)
    }
}

extension AggregateRecord {
    /// Appends this row as one JSON object with the contract's keys, in contract order.
    public func appendJSON(to out: inout String) {
        out += "{\"device\":"
        JSONText.appendString(device, to: &out)
        out += ",\"metric\":"
        JSONText.appendString(metric, to: &out)
        out += ",\"window_start\":"
        JSONText.appendString(windowStart, to: &out)
        out += ",\"window_end\":"
        JSONText.appendString(windowEnd, to: &out)
        out += ",\"count\":"
        out += String(count)
        // Member by member, not a loop over an array of pairs: that array, and the key
        // text joined for each, were allocated for every row.
        JSONText.appendMember(",\"sum\":", sum, to: &out)
        JSONText.appendMember(",\"min\":", min, to: &out)
        JSONText.appendMember(",\"max\":", max, to: &out)
        JSONText.appendMember(",\"mean\":", mean, to: &out)
        JSONText.appendMember(",\"stddev\":", stddev, to: &out)
        JSONText.appendMember(",\"first\":", first, to: &out)
        JSONText.appendMember(",\"last\":", last, to: &out)
        JSONText.appendMember(",\"p50\":", p50, to: &out)
        JSONText.appendMember(",\"p90\":", p90, to: &out)
        JSONText.appendMember(",\"p95\":", p95, to: &out)
        JSONText.appendMember(",\"p99\":", p99, to: &out)
        out += "}"
    }

    /// This row as one JSON object.
    public var json: String {
        var out = ""
        appendJSON(to: &out)
        return out
    }
}

extension DeviceRecord {
    /// Appends this row as one JSON object.
    public func appendJSON(to out: inout String) {
        out += "{\"device\":"
        JSONText.appendString(device, to: &out)
        out += ",\"metrics\":["
        for (index, metric) in metrics.enumerated() {
            if index > 0 { out += "," }
            JSONText.appendString(metric, to: &out)
        }
        out += "],\"last_seen\":"
        JSONText.appendString(lastSeen, to: &out)
        out += ",\"readings\":" + String(readings) + "}"
    }
}
