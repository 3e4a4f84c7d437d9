internal import Hummingbird
internal import SensorCore

/// Requires `Authorization: Bearer TOKEN` (or, for the streaming routes browsers open,
/// `?access_token=TOKEN`) when a token is configured. The comparison takes the same time
/// wherever the strings differ, so the token cannot be guessed byte by byte.
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String
    let onRejected: @Sendable () -> Void
    /// Paths where `?access_token=` may stand in for the header (browsers cannot set
    /// headers on EventSource or WebSocket).
    static var queryTokenPaths: Set<String> { ["/v1/stream", "/v1/ws"] }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let presented = Self.presentedToken(
            authorization: request.headers[.authorization], path: request.uri.path,
            queryToken: request.uri.queryParameters["access_token"].map(String.init))
        guard let presented, Self.constantTimeEquals(presented.utf8, token.utf8) else {
            onRejected()
            throw Self.rejection
        }
        return try await next(request, context)
    }

    /// The token a request presents: `Authorization: Bearer …`, else (on the streaming
    /// paths only) `?access_token=`.
    static func presentedToken(authorization: String?, path: String, queryToken: String?) -> Substring? {
        if let header = authorization {
            let prefix = "Bearer "
            if header.count > prefix.count, header.lowercased().hasPrefix(prefix.lowercased()) {
                return header.dropFirst(prefix.count)
            }
        }
        return queryTokenPaths.contains(path) ? queryToken.map { $0[...] } : nil
    }

    /// The 401 for a request without the right token.
    static var rejection: APIError {
        var error = APIError(.unauthorized, "missing or wrong bearer token", reason: .unauthorized)
        error.headers[.wwwAuthenticate] = "Bearer"
        return error
    }

    static func constantTimeEquals(_ lhs: some Collection<UInt8>, _ rhs: some Collection<UInt8>) -> Bool {
        var difference = UInt8(truncatingIfNeeded: lhs.count ^ rhs.count)
        for (a, b) in zip(lhs, rhs) { difference |= a ^ b }
        if lhs.count != rhs.count { difference |= 1 }
        return difference == 0
    }
}
