/// Why an input was not taken. One closed list, shared by both transports: it is the
/// `reason` of HTTP 400 bodies, the `reason` log metadata and the `reason` label of the
/// reject counter. Raw values are part of the contract (CONTRACT.md §2).
public enum RejectReason: String, Sendable, CaseIterable, Codable {
    case malformed
    case invalidDevice = "invalid_device"
    case invalidMetric = "invalid_metric"
    case invalidValue = "invalid_value"
    case invalidTimestamp = "invalid_ts"
    case invalidSeq = "invalid_seq"
    case topicMismatch = "topic_mismatch"
    case unsupportedMediaType = "unsupported_media_type"
    case tooLarge = "too_large"
    case futureTimestamp = "future_ts"
    case tooLate = "too_late"
    case queueFull = "queue_full"
    case unauthorized
    case seriesLimit = "series_limit"
    /// A finite value whose magnitude is above ``ValueRange/limit`` (CONTRACT §2 v2).
    case valueOutOfRange = "value_out_of_range"
    /// A query whose answer could hold more rows than `limits.max_query_rows` (CONTRACT §4).
    case tooManyRows = "too_many_rows"
    /// A known token used outside its scope, or for a device outside its glob (v2).
    case forbidden
    /// The daemon is replaying its journal or shutting down (HTTP 503).
    case unavailable
    /// The journal cannot be written (disk full, permissions…), so nothing can be made
    /// durable (HTTP 503).
    case journalUnavailable = "journal_unavailable"
}
