/// One event of a Server-Sent Events stream (WHATWG HTML, "Server-sent events"), as
/// ``ServerSentEventParser`` dispatches it at a blank line.
public struct ServerSentEvent: Sendable, Equatable {
    /// The `event:` field, `"message"` when the event named none.
    public var event: String
    /// The `data:` lines joined with `\n` (the final line break removed).
    public var data: String

    public init(event: String = "message", data: String) {
        self.event = event
        self.data = data
    }
}
