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
        let fromHeader: Substring? = request.headers[.authorization].flatMap { header in
            let prefix = "Bearer "
            guard header.count > prefix.count, header.lowercased().hasPrefix(prefix.lowercased()) else { return nil }
            return header.dropFirst(prefix.count)
        }
        let presented = fromHeader
            ?? (Self.queryTokenPaths.contains(request.uri.path) ? request.uri.queryParameters["access_token"] : nil)
        guard let presented, Self.constantTimeEquals(presented.utf8, token.utf8) else {
            onRejected()
            var error = APIError(.unauthorized, "missing or wrong bearer token", reason: .unauthorized)
            error.headers[.wwwAuthenticate] = "Bearer"
            throw error
        }
        return try await next(request, context)
    }

    static func constantTimeEquals(_ lhs: some Collection<UInt8>, _ rhs: some Collection<UInt8>) -> Bool {
        var difference = UInt8(truncatingIfNeeded: lhs.count ^ rhs.count)
        for (a, b) in zip(lhs, rhs) { difference |= a ^ b }
        if lhs.count != rhs.count { difference |= 1 }
        return difference == 0
    }
}
