internal import SensorCore
internal import SensorPipeline

/// The checked messages of one turn of the broker connection, gathered into one batch:
/// ``MQTTSource`` submits it whole before any of their acknowledgements leaves, so a
/// burst of single-reading messages costs one journal append and one queue hand-over
/// per shard instead of one per message.
///
/// A batch holds messages of one payload format (the ingest counters count by format)
/// and at most `maxReadings` readings (never more than `limits.max_readings_per_payload`,
/// which keeps every journal record within what replay accepts), unless it is one
/// message: a message that does not fit hands the batch gathered so far back, to be
/// submitted first.
struct MessageRound {
    let maxReadings: Int
    private(set) var batch: PreparedBatch?

    init(maxReadings: Int) {
        self.maxReadings = maxReadings
    }

    /// Adds a message's batch; returns the batch gathered before it when that one must be
    /// submitted first.
    mutating func add(_ message: PreparedBatch) -> PreparedBatch? {
        if let gathered = batch, gathered.format == message.format,
           gathered.readings.count + message.readings.count <= maxReadings {
            batch!.append(message)
            return nil
        }
        defer { batch = message }
        return batch
    }

    /// The gathered batch, if any, leaving the round empty.
    mutating func take() -> PreparedBatch? {
        defer { batch = nil }
        return batch
    }
}
