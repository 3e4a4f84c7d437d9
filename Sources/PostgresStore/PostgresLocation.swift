import Foundation
internal import NIOSSL
internal import PostgresNIO

/// Where a PostgreSQL store lives: a `postgres://user:password@host:port/database` URL
/// (also `postgresql://`), with an optional `?sslmode=` as libpq reads it: `disable`,
/// `prefer` (the default: TLS when the server offers it), `require` (TLS, the certificate
/// not checked) or `verify-full` (TLS with the certificate checked against the system's
/// trust roots and the host name). Its ``description`` never shows the password.
public struct PostgresLocation: Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int
    public let username: String
    let password: String?
    public let database: String?
    public let sslMode: SSLMode

    public enum SSLMode: String, Sendable {
        case disable, prefer, require
        case verifyFull = "verify-full"
    }

    /// Whether `text` names a PostgreSQL store rather than a SQLite file.
    public static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// Parses a URL.
    /// - Throws: ``Invalid`` saying what is wrong with it (never echoing the password).
    public init(url text: String) throws(Invalid) {
        guard Self.isURL(text), let components = URLComponents(string: text) else {
            throw Invalid(reason: "not a postgres:// URL (postgres://user:password@host:port/database)")
        }
        guard let host = components.host, !host.isEmpty else { throw Invalid(reason: "the URL names no host") }
        guard let user = components.user, !user.isEmpty else { throw Invalid(reason: "the URL names no user (postgres://user@host/database)") }
        self.host = host
        port = components.port ?? 5432
        username = user.removingPercentEncoding ?? user
        password = components.password.map { $0.removingPercentEncoding ?? $0 }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.isEmpty ? nil : path
        var mode = SSLMode.prefer
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let value = item.value.flatMap(SSLMode.init(rawValue:)) else {
                    throw Invalid(reason: "sslmode must be disable, prefer, require or verify-full")
                }
                mode = value
            default:
                throw Invalid(reason: "unknown URL parameter \(item.name) (only sslmode is read)")
            }
        }
        sslMode = mode
    }

    /// Why a URL is not usable.
    public struct Invalid: Error, CustomStringConvertible {
        public let reason: String
        public var description: String { reason }
    }

    public var description: String {
        "postgres://\(username)@\(host):\(port)/\(database ?? "")"
    }

    /// TLS settings as libpq's sslmode reads them: verified only for verify-full.
    private var tlsConfiguration: TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if sslMode != .verifyFull { configuration.certificateVerification = .none }
        return configuration
    }

    /// The configuration of the single connection made at open, whose failure (refused,
    /// wrong password, no such database) is reported at once, where the pool would retry.
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS = switch sslMode {
        case .disable: .disable
        case .prefer: .prefer(try NIOSSLContext(configuration: tlsConfiguration))
        case .require, .verifyFull: .require(try NIOSSLContext(configuration: tlsConfiguration))
        }
        var configuration = PostgresConnection.Configuration(host: host, port: port, username: username, password: password, database: database, tls: tls)
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }

    /// The client configuration for this location.
    var clientConfiguration: PostgresClient.Configuration {
        let unverified = tlsConfiguration
        let tls: PostgresClient.Configuration.TLS = switch sslMode {
        case .disable: .disable
        case .prefer: .prefer(unverified)
        case .require: .require(unverified)
        case .verifyFull: .require(tlsConfiguration)
        }
        var configuration = PostgresClient.Configuration(host: host, port: port, username: username, password: password, database: database, tls: tls)
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }
}
