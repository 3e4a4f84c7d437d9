/// An input that cannot be read: the file, stdin or its gzip stream. Ends the import of
/// that file (the readings before it stay taken; `--resume` continues after them).
public struct ImportInputError: Error, Sendable, CustomStringConvertible {
    public let path: String
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}
