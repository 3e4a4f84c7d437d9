/// A journal file operation that failed, with the path and the system's reason.
public struct JournalError: Error, Sendable, CustomStringConvertible {
    public let operation: String
    public let path: String
    public let reason: String

    public var description: String { "cannot \(operation) \(path): \(reason)" }
}
