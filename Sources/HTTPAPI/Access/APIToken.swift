public import SensorCore

/// A bearer token the API accepts (CONTRACT §5): its name (what logs and metrics show),
/// its secret, what it may do and, for ingest, which devices it may write.
public struct APIToken: Sendable {
    public enum Scope: String, Sendable {
        /// `POST /v1/readings`, for devices matching ``APIToken/devices``.
        case ingest
        /// Queries, live streams and `/metrics`.
        case read
        /// Both, for every device.
        case admin

        func allows(_ access: Access) -> Bool {
            switch (self, access) {
            case (.admin, _), (.ingest, .ingest), (.read, .read): true
            default: false
            }
        }
    }

    public var name: String
    /// The secret's bytes, compared in constant time (``AccessPolicy``); never logged.
    package let secret: [UInt8]
    public var scope: Scope
    /// Devices an ingest token may write; every device for the other scopes.
    public var devices: NameGlob

    public init(name: String, secret: String, scope: Scope, devices: NameGlob = .any) {
        self.name = name
        self.secret = Array(secret.utf8)
        self.scope = scope
        self.devices = scope == .ingest ? devices : .any
    }
}

/// What a request asks to do.
enum Access: Sendable {
    /// Write readings (`POST /v1/readings`).
    case ingest
    /// Everything else behind the tokens: queries, streams, `/metrics`.
    case read

    var verb: String {
        switch self {
        case .ingest: "write readings"
        case .read: "read aggregates or metrics"
        }
    }
}
