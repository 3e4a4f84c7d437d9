/// The road a reading came in by; a label of the ingest and reject counters.
public enum IngestTransport: String, Sendable, CaseIterable {
    case http
    case mqtt
}
