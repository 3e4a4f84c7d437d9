internal import Logging
internal import SensorCore
internal import Synchronization

/// Logs rejected MQTT payloads without flooding: the first rejection of each reason is
/// logged with its topic at once, later ones are summed and logged at most once per
/// interval per reason (`rejected payloads reason=… count=… last_topic=…`).
final class RejectLogger: Sendable {
    private struct Pending {
        var lastLogged: ContinuousClock.Instant?
        var suppressed = 0
        var lastTopic = ""
    }

    private let logger: Logger
    private let interval: Duration
    private let pending = Mutex<[RejectReason: Pending]>([:])

    init(logger: Logger, interval: Duration = .seconds(10)) {
        self.logger = logger
        self.interval = interval
    }

    func record(_ error: DecodeError, topic: String) {
        let now = ContinuousClock.now
        let suppressed: Int? = pending.withLock { table in
            var entry = table[error.reason] ?? Pending()
            defer { table[error.reason] = entry }
            if let last = entry.lastLogged, now - last < interval {
                entry.suppressed += 1
                entry.lastTopic = topic
                return nil
            }
            let count = entry.suppressed
            entry.suppressed = 0
            entry.lastLogged = now
            return count
        }
        guard let suppressed else { return }
        var metadata: Logger.Metadata = ["topic": "\(topic)", "reason": "\(error.reason.rawValue)", "error": "\(error.message)"]
        if suppressed > 0 { metadata["suppressed_since_last"] = "\(suppressed)" }
        logger.warning("rejected payload", metadata: metadata)
    }
}
