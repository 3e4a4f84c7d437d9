public import SensorCore

/// Where reading an input stands after a record: what a resumed import starts from.
public struct ImportPosition: Sendable, Codable, Equatable {
    /// Offset in the input's bytes (inflated ones for gzip) after the record.
    public var offset: Int64
    /// The line the next record starts on (1-based).
    public var line: Int
    /// JSON formats: inside the top-level array.
    public var inArray: Bool
    /// SenML: the base fields carried to the next record.
    public var senml: SenMLBaseCarry?
    /// Wide CSV: the columns decided so far (0-based index → whether it is a metric).
    public var csvColumns: [Int: Bool]?

    public init(offset: Int64 = 0, line: Int = 1, inArray: Bool = false, senml: SenMLBaseCarry? = nil, csvColumns: [Int: Bool]? = nil) {
        self.offset = offset
        self.line = line
        self.inArray = inArray
        self.senml = senml
        self.csvColumns = csvColumns
    }

    public static let start = ImportPosition()
}

/// A record that was not taken: its line, why, and the decoder's message.
public struct ImportReject: Sendable, Equatable {
    public var line: Int
    public var reason: RejectReason
    public var message: String

    public init(line: Int, reason: RejectReason, message: String) {
        self.line = line
        self.reason = reason
        self.message = message
    }
}

/// Readings read from consecutive records, ready to be sent as one batch: each reading's
/// line, the records refused among them, and the position after the last record.
public struct ImportChunk: Sendable {
    public var readings: [Reading] = []
    /// `lines[i]` is the line of `readings[i]`.
    public var lines: [Int] = []
    public var rejects: [ImportReject] = []
    public var end: ImportPosition

}
