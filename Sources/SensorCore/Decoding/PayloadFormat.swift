/// The payload encodings SensorHub reads (CONTRACT.md §2), on either transport.
public enum PayloadFormat: String, Sendable, CaseIterable {
    /// One native JSON object or an array of them.
    case json
    /// One native JSON object per line.
    case ndjson
    /// SenML JSON (RFC 8428).
    case senml
    /// InfluxDB line protocol.
    case lineProtocol = "line_protocol"
    /// A bare number; only where the MQTT topic names device and metric.
    case bareNumber = "bare_number"

    /// The format named by an HTTP `Content-Type`, parameters ignored; nil when unknown.
    /// The media type (before the first `;`, spaces and tabs around it trimmed) is compared
    /// ASCII case-insensitively, on the value's bytes: this runs for every HTTP batch.
    public init?(contentType: String) {
        var contentType = contentType
        guard let format = contentType.withUTF8({ Self.format(ofContentType: $0) }) else { return nil }
        self = format
    }

    private static let mediaTypes: [(name: StaticString, format: PayloadFormat)] = [
        ("application/json", .json), ("application/x-ndjson", .ndjson),
        ("application/senml+json", .senml), ("text/plain", .lineProtocol),
    ]

    private static func format(ofContentType value: UnsafeBufferPointer<UInt8>) -> PayloadFormat? {
        func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        var end = value.firstIndex(of: UInt8(ascii: ";")) ?? value.count
        var start = 0
        while start < end, isBlank(value[start]) { start += 1 }
        while end > start, isBlank(value[end - 1]) { end -= 1 }
        let mediaType = UnsafeBufferPointer(rebasing: value[start..<end])
        for (name, format) in mediaTypes where name.utf8CodeUnitCount == mediaType.count {
            let known = UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount)
            // The names are lowercase; setting bit 5 lowercases an ASCII letter only.
            if zip(known, mediaType).allSatisfy({ known, byte in
                byte == known || (known >= UInt8(ascii: "a") && known <= UInt8(ascii: "z") && byte | 0x20 == known)
            }) {
                return format
            }
        }
        return nil
    }
}
