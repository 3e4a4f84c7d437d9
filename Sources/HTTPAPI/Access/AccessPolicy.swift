internal import Hummingbird
internal import SensorCore

/// Who may do what on `/v1/*` and `/metrics`: the configured tokens (`http.token` as an
/// `admin` token, and the scoped `http.tokens`). Without any token every request is let
/// through, as before tokens existed.
public struct AccessPolicy: Sendable {
    public let tokens: [APIToken]

    public init(tokens: [APIToken]) {
        self.tokens = tokens
    }

    /// No token configured: the API is open.
    var isOpen: Bool { tokens.isEmpty }

    enum Decision {
        /// Go on; the token, when the API has any.
        case allowed(APIToken?)
        /// No token, or one nobody configured: 401.
        case unauthorized
        /// A known token outside its scope: 403.
        case forbidden(APIToken)
    }

    /// Whether the request presenting `presented` may do `access`.
    func decide(presented: Substring?, for access: Access) -> Decision {
        guard !isOpen else { return .allowed(nil) }
        guard let presented, let token = token(presented) else { return .unauthorized }
        return token.scope.allows(access) ? .allowed(token) : .forbidden(token)
    }

    /// The configured token whose secret is `presented`. Every secret is compared, each in
    /// time that depends only on the presented token's length (which the client knows), so
    /// how long this takes tells nothing about a secret's length, how close a guess was,
    /// nor which token it was close to.
    private func token(_ presented: Substring) -> APIToken? {
        var found: APIToken?
        for token in tokens where Self.constantTimeEquals(presented: presented.utf8, secret: token.secret) {
            found = token
        }
        return found
    }

    /// Whether `presented` is `secret`: every presented byte is compared with a secret byte
    /// (cycling through the secret), whatever the lengths and wherever they differ. An empty
    /// secret matches nothing.
    static func constantTimeEquals(presented: some Collection<UInt8>, secret: [UInt8]) -> Bool {
        guard !secret.isEmpty else { return false }
        var difference: UInt8 = presented.count == secret.count ? 0 : 1
        for (index, byte) in presented.enumerated() { difference |= byte ^ secret[index % secret.count] }
        return difference == 0
    }

    /// The token a request presents: `Authorization: Bearer …`, else (on the streaming
    /// paths browsers open, which cannot carry headers) `?access_token=`.
    static func presentedToken(authorization: String?, path: String, queryToken: String?) -> Substring? {
        if let header = authorization {
            let prefix = "Bearer "
            if header.count > prefix.count, header.lowercased().hasPrefix(prefix.lowercased()) {
                return header.dropFirst(prefix.count)
            }
        }
        return queryTokenPaths.contains(path) ? queryToken.map { $0[...] } : nil
    }

    /// Paths where `?access_token=` may stand in for the header.
    static let queryTokenPaths: Set<String> = ["/v1/stream", "/v1/ws"]

    /// The 401 for a request without a known token.
    static var unauthorized: APIError {
        var error = APIError(.unauthorized, "missing or wrong bearer token", reason: .unauthorized)
        error.headers[.wwwAuthenticate] = "Bearer"
        return error
    }

    /// The 403 for a known token outside its scope (its name only, never its secret).
    static func forbidden(_ token: APIToken, _ access: Access) -> APIError {
        APIError(.forbidden, "token \(token.name) (scope \(token.scope.rawValue)) may not \(access.verb)", reason: .forbidden)
    }
}
