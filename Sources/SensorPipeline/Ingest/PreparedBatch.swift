public import SensorCore

/// Readings decoded from one payload, on their way into the pipeline through an
/// ``IngestEntry`` (which made them with ``IngestEntry/decode(_:format:context:)``; tests
/// and benchmarks may make them directly).
public struct PreparedBatch: Sendable {
    public var readings: [Reading]
    /// The payload format, a label of the ingest counter.
    public var format: PayloadFormat
    /// The client's name for the batch, if it gave one: a batch sent again under the same
    /// identity counts none of the readings already taken.
    public var identity: BatchIdentity?
    /// The registered series of each reading, once ``IngestEntry/check(_:)`` passed them.
    var slots: [SeriesSlot] = []

    public init(readings: [Reading], format: PayloadFormat, identity: BatchIdentity? = nil) {
        self.readings = readings
        self.format = format
        self.identity = identity
    }

    /// Appends another batch's readings (and their series, if both were checked).
    public mutating func append(_ other: PreparedBatch) {
        readings.append(contentsOf: other.readings)
        slots.append(contentsOf: other.slots)
    }
}
