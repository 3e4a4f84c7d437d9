internal import Foundation

/// The MQTT broker to connect to, written `mqtt://[user[:password]@]host[:port]` (port 1883
/// when omitted), or `mqtts://…` for MQTT over TLS (port 8883 when omitted); an IPv6 host
/// in brackets, `mqtt://[::1]:1883`.
public struct MQTTURL: Sendable, Equatable, CustomStringConvertible {
    /// Host name or address, without brackets for IPv6.
    public var host: String
    /// TCP port, 1–65535.
    public var port: Int
    /// User name, if the broker wants one.
    public var username: String?
    /// Password; a secret: ``description`` masks it.
    public var password: String?
    /// `mqtts://`: TLS, the broker's certificate verified (``Settings/MQTT/tls``).
    public var usesTLS: Bool

    public static let defaultPort = 1883
    public static let defaultTLSPort = 8883

    public init(host: String, port: Int? = nil, username: String? = nil, password: String? = nil, usesTLS: Bool = false) {
        self.host = host
        self.port = port ?? (usesTLS ? Self.defaultTLSPort : Self.defaultPort)
        self.username = username
        self.password = password
        self.usesTLS = usesTLS
    }

    /// The URL with the password masked as `***` (safe to log).
    public var description: String { render(password: password.map { _ in "***" }) }

    /// The URL with the password in clear (percent-encoded), e.g. to hand to a client library.
    public var urlString: String {
        render(password: password.map { $0.addingPercentEncoding(withAllowedCharacters: .urlPasswordAllowed) ?? $0 })
    }

    private func render(password renderedPassword: String?) -> String {
        var text = usesTLS ? "mqtts://" : "mqtt://"
        if let username {
            text += username.addingPercentEncoding(withAllowedCharacters: .urlUserAllowed) ?? username
            if let renderedPassword { text += ":" + renderedPassword }
            text += "@"
        }
        text += host.contains(":") ? "[\(host)]" : host
        return text + ":\(port)"
    }

    /// Parses `text`, or says what is wrong with it (without repeating any password).
    public static func parse(_ text: String) -> Result<MQTTURL, ParseFailure> {
        let expected = "expected mqtt://[user:password@]host:port or mqtts://…"
        guard let components = URLComponents(string: text), components.scheme != nil else {
            return .failure(.init("is not a URL; \(expected)"))
        }
        let scheme = components.scheme?.lowercased()
        guard scheme == "mqtt" || scheme == "mqtts" else {
            return .failure(.init("has scheme \"\(components.scheme ?? "")\", not mqtt or mqtts; \(expected)"))
        }
        let usesTLS = scheme == "mqtts"
        guard var host = components.host, !host.isEmpty else {
            return .failure(.init("has no host; \(expected)"))
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard components.path.isEmpty || components.path == "/" else {
            return .failure(.init("has a path (\(components.path)); \(expected)"))
        }
        guard components.query == nil, components.fragment == nil else {
            return .failure(.init("has a query or fragment; \(expected)"))
        }
        let port = components.port ?? (usesTLS ? defaultTLSPort : defaultPort)
        guard (1...65_535).contains(port) else {
            return .failure(.init("has port \(port), not 1-65535; \(expected)"))
        }
        if components.password != nil, (components.user ?? "").isEmpty {
            return .failure(.init("has a password but no user; \(expected)"))
        }
        return .success(MQTTURL(host: host, port: port, username: components.user, password: components.password, usesTLS: usesTLS))
    }

    /// What is wrong with an MQTT URL text.
    public struct ParseFailure: Error {
        public let reason: String
        init(_ reason: String) { self.reason = reason }
    }

    /// `text` with the password part of its user info replaced by `***`, for messages.
    public static func masked(_ text: String) -> String {
        guard let schemeEnd = text.range(of: "://"),
              let at = text[schemeEnd.upperBound...].firstIndex(of: "@"),
              let colon = text[schemeEnd.upperBound..<at].firstIndex(of: ":")
        else { return text }
        return String(text[..<text.index(after: colon)]) + "***" + String(text[at...])
    }
}
