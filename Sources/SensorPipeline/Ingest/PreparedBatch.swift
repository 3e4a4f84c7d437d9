public import SensorCore

/// Readings decoded from one payload, on their way into the pipeline through an
/// ``IngestEntry`` (which made them with ``IngestEntry/decode(_:format:context:)``; tests
/// and benchmarks may make them directly).
public struct PreparedBatch: Sendable {
    public var readings: [Reading]
    /// The payload format, a label of the ingest counter.
    public var format: PayloadFormat

    public init(readings: [Reading], format: PayloadFormat) {
        self.readings = readings
        self.format = format
    }
}
