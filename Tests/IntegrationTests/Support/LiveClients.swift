import Foundation

/// One Server-Sent Event: its `event:` name (`message` by default) and `data:`.
struct ServerSentEvent {
    var name: String
    var data: String

    /// The data as a JSON object.
    var object: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any] }
}

/// A `/v1/stream` subscriber over a ``RawConnection``: reads the chunked body and splits
/// it into events (comments and `retry:` skipped).
final class EventStreamClient {
    let connection: RawConnection
    let status: Int
    let headers: [String: String]
    private var body: [UInt8] = []

    init(port: Int, query: String, receiveBuffer: Int32? = nil) throws {
        connection = try RawConnection(port: port, receiveBuffer: receiveBuffer)
        try connection.sendGET("/v1/stream" + query, headers: ["Accept": "text/event-stream"])
        guard let head = try connection.readResponseHead(deadline: .now + generousDeadline) else {
            throw RawConnectionError.system("read response head", 0)
        }
        (status, headers) = head
    }

    /// The next event, or nil at the deadline or when the stream ends.
    func next(deadline: ContinuousClock.Instant) throws -> ServerSentEvent? {
        while true {
            if let range = body.firstRange(of: Array("\n\n".utf8)) {
                let block = String(decoding: body[..<range.lowerBound], as: UTF8.self)
                body.removeSubrange(..<range.upperBound)
                var event = ServerSentEvent(name: "message", data: "")
                var hasData = false
                for line in block.split(separator: "\n") {
                    if line.hasPrefix("event: ") { event.name = String(line.dropFirst(7)) }
                    if line.hasPrefix("data: ") {
                        event.data += (hasData ? "\n" : "") + line.dropFirst(6)
                        hasData = true
                    }
                }
                if hasData { return event }
                continue  // a comment or retry: block
            }
            guard let chunk = try connection.readChunk(deadline: deadline) else { return nil }
            body += chunk
        }
    }

    /// Events until `done` says so (true) or the deadline passes; the events read.
    func collect(until deadline: ContinuousClock.Instant, done: ([ServerSentEvent]) -> Bool) throws -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        while !done(events), let event = try next(deadline: deadline) { events.append(event) }
        return events
    }
}

/// A `/v1/ws` subscriber over a ``RawConnection``: the upgrade handshake, then unmasked
/// server frames (text, close, ping answered with pong).
final class WebSocketTestClient {
    let connection: RawConnection
    let status: Int

    init(port: Int, query: String) throws {
        connection = try RawConnection(port: port)
        try connection.sendGET("/v1/ws" + query, headers: [
            "Upgrade": "websocket", "Connection": "Upgrade",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13",
        ])
        guard let head = try connection.readResponseHead(deadline: .now + generousDeadline) else {
            throw RawConnectionError.system("read upgrade answer", 0)
        }
        status = head.status
    }

    /// The next text message, or nil at the deadline or on close.
    func nextText(deadline: ContinuousClock.Instant) throws -> String? {
        while true {
            guard let header = try connection.read(count: 2, deadline: deadline) else { return nil }
            let opcode = header[0] & 0x0F
            var length = Int(header[1] & 0x7F)
            if length == 126 {
                guard let extended = try connection.read(count: 2, deadline: deadline) else { return nil }
                length = Int(extended[0]) << 8 | Int(extended[1])
            } else if length == 127 {
                guard let extended = try connection.read(count: 8, deadline: deadline) else { return nil }
                length = extended.reduce(0) { $0 << 8 | Int($1) }
            }
            guard let payload = try connection.read(count: length, deadline: deadline) else { return nil }
            switch opcode {
            case 0x1: return String(decoding: payload, as: UTF8.self)
            case 0x8: return nil
            case 0x9: try sendFrame(opcode: 0xA, payload: payload)
            default: continue
            }
        }
    }

    /// Sends a close frame (normal closure) as a client must: masked.
    func close() throws {
        try sendFrame(opcode: 0x8, payload: [0x03, 0xE8])
    }

    private func sendFrame(opcode: UInt8, payload: [UInt8]) throws {
        let mask: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        var frame: [UInt8] = [0x80 | opcode, 0x80 | UInt8(payload.count)]
        frame += mask
        frame += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        try connection.send(frame)
    }
}
