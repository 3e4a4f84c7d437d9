/// A connection to the live stream that failed in a way a later attempt may not:
/// daemon unreachable or restarting, connection lost or silent past the timeout, 5xx, 429.
struct LiveStreamInterruption: Error {
    /// What happened, for the one line printed per reconnect stretch.
    let reason: String
}
