/// A journal file operation that failed, with the path and the system's reason.
public struct JournalError: Error, Sendable, CustomStringConvertible {
    public let operation: String
    public let path: String
    public let reason: String
    /// A failed sync: what the kernel held for the file may be gone, and a later sync
    /// that succeeds would not say so ("fsyncgate"). The journal then takes nothing more
    /// until the daemon is restarted and replays what is really on disk.
    public let isFatal: Bool

    public init(operation: String, path: String, reason: String, isFatal: Bool = false) {
        self.operation = operation
        self.path = path
        self.reason = reason
        self.isFatal = isFatal
    }

    public var description: String {
        let text = "cannot \(operation) \(path): \(reason)"
        return isFatal ? text + "; no more readings are taken until the daemon is restarted" : text
    }
}
