/// Why the settings could not be loaded, naming the source (config file path, environment
/// variable or flag), the key when there is one, and what is wrong:
///
/// ```
/// SENSORHUB_HTTP_PORT: "80x" is not a port number (0-65535)
/// config.yaml: unknown key "http.prot" (line 3); keys of section http: host, port, ...
/// config.yaml: store.flush_interval: "10" is not a duration (...)
/// ```
///
/// The value of a secret (`http.token`, an MQTT password) is never repeated in a message.
public struct SettingsError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Where the offending value or problem comes from.
    public enum Source: Sendable, Equatable, CustomStringConvertible {
        /// The config file, by the path the caller gave.
        case file(String)
        /// An environment variable, by name.
        case environment(String)
        /// A command-line flag, by name (`--http-port`).
        case flag(String)

        public var description: String {
            switch self {
            case .file(let path): path
            case .environment(let name): name
            case .flag(let name): name
            }
        }
    }

    /// Where the problem is.
    public let source: Source
    /// The dotted key concerned (`http.port`), or nil when the problem is not about the value
    /// of one known key (missing file, invalid YAML, unknown key or environment variable).
    public let key: String?
    /// What is wrong, without the source prefix.
    public let problem: String

    public init(source: Source, key: String?, problem: String) {
        self.source = source
        self.key = key
        self.problem = problem
    }

    /// One line: `source: problem`, and for a value read from the config file
    /// `path: key: problem` (an environment variable or flag already names its key).
    public var description: String {
        if case .file = source, let key {
            return "\(source): \(key): \(problem)"
        }
        return "\(source): \(problem)"
    }
}
