/// Turns the bytes of a `text/event-stream` body into events, chunk by chunk, following the
/// WHATWG event-stream interpretation: lines end in `\r\n`, `\n` or `\r` (also when a chunk
/// boundary splits `\r\n`), `:` starts a comment (heartbeats), `data:` lines accumulate, a
/// blank line dispatches, one space after the colon is dropped, a leading UTF-8 BOM is
/// skipped. Fields other than `data` and `event` are ignored: `tail` paces its reconnects
/// itself (`retry:` is for browsers) and the daemon sends no `id:`. Pure: no I/O, no clock.
///
/// A value: one parser per connection. Cost: one copy of each line's bytes and one `String`
/// per field. An event that never ends (no blank line) is held in memory as it grows.
public struct ServerSentEventParser: Sendable {
    private var line: [UInt8] = []
    private var data = ""
    private var hasData = false
    private var eventName = ""
    /// The previous chunk ended in `\r`: a `\n` opening the next chunk belongs to it.
    private var afterCarriageReturn = false
    /// Bytes of a leading BOM matched so far; `nil` once the start of the stream is past.
    private var bomMatched: Int? = 0

    private static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    public init() {}

    /// Consumes the next chunk and returns the events it completed, in stream order.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        for byte in bytes {
            if let matched = bomMatched {
                if byte == Self.byteOrderMark[matched] {
                    bomMatched = matched + 1 == Self.byteOrderMark.count ? nil : matched + 1
                    continue
                }
                // Not a BOM after all: the bytes held back are ordinary line content.
                line.append(contentsOf: Self.byteOrderMark[..<matched])
                bomMatched = nil
            }
            switch byte {
            case UInt8(ascii: "\n"):
                if afterCarriageReturn {
                    afterCarriageReturn = false
                } else {
                    endLine(into: &events)
                }
            case UInt8(ascii: "\r"):
                afterCarriageReturn = true
                endLine(into: &events)
            default:
                afterCarriageReturn = false
                line.append(byte)
            }
        }
        return events
    }

    /// Processes one complete line (without its terminator) and clears it.
    private mutating func endLine(into events: inout [ServerSentEvent]) {
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty {
            dispatch(into: &events)
            return
        }
        if line[0] == UInt8(ascii: ":") { return }  // comment: heartbeat
        let name: String
        var valueText = ""
        if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            name = String(decoding: line[..<colon], as: UTF8.self)
            var start = colon + 1
            if start < line.count, line[start] == UInt8(ascii: " ") { start += 1 }
            valueText = String(decoding: line[start...], as: UTF8.self)
        } else {
            name = String(decoding: line, as: UTF8.self)
        }
        switch name {
        case "data":
            if hasData { data += "\n" }
            data += valueText
            hasData = true
        case "event":
            eventName = valueText
        default:
            break  // id, retry, unknown fields: ignored
        }
    }

    /// A blank line: emits the pending event if it has data, then starts a new one.
    private mutating func dispatch(into events: inout [ServerSentEvent]) {
        defer {
            data = ""
            hasData = false
            eventName = ""
        }
        guard hasData else { return }
        events.append(ServerSentEvent(event: eventName.isEmpty ? "message" : eventName, data: data))
    }
}
