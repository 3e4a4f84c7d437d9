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
    public init?(contentType: String) {
        let essence = contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)[0]
        let mediaType = essence.drop(while: { $0 == " " || $0 == "\t" })
            .reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed()
        switch String(mediaType).lowercased() {
        case "application/json": self = .json
        case "application/x-ndjson": self = .ndjson
        case "application/senml+json": self = .senml
        case "text/plain": self = .lineProtocol
        default: return nil
        }
    }
}
