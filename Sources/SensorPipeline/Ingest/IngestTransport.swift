/// The road readings come in by (`http`, `mqtt`, `import`, …): the `transport` label of
/// the ingest and reject counters. The pipeline knows no transport by name; each one names
/// itself when it asks for its ``IngestEntry``.
public struct IngestTransport: Hashable, Sendable, CustomStringConvertible {
    /// The label value: lower case, short, one word.
    public let name: String

    public init(_ name: String) {
        self.name = name
    }

    public var description: String { name }
}
