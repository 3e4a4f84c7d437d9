internal import Hummingbird
internal import SensorCore

/// Lets a request through `/v1/*` and `/metrics` only with a token whose scope covers it
/// (``AccessPolicy``): 401 without a known token, 403 outside its scope. The token goes
/// into the context, for the ingest route's device check.
struct AccessMiddleware<Context: AuthorizedRequestContext>: RouterMiddleware {
    let policy: AccessPolicy
    let onRejected: @Sendable (RejectReason) -> Void

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // Every request that is not a read writes (the API's only one is POST /v1/readings).
        // Decided by the method, not the path: the router also takes `/v1/readings/` and
        // `//v1/readings`, and a path match let a read token write through them.
        let access: Access = request.method == .get || request.method == .head ? .read : .ingest
        let presented = AccessPolicy.presentedToken(
            authorization: request.headers[.authorization], path: request.uri.path,
            queryToken: request.uri.queryParameters["access_token"].map(String.init))
        switch policy.decide(presented: presented, for: access) {
        case .allowed(let token):
            var context = context
            context.token = token
            return try await next(request, context)
        case .unauthorized:
            onRejected(.unauthorized)
            throw AccessPolicy.unauthorized
        case .forbidden(let token):
            onRejected(.forbidden)
            throw AccessPolicy.forbidden(token, access)
        }
    }
}

/// A request context that carries the token the request was let in with.
protocol AuthorizedRequestContext: RequestContext {
    /// The token, or nil when the API has none (open).
    var token: APIToken? { get set }
}

/// The daemon's request context: Hummingbird's basics and the request's token.
struct SensorHubRequestContext: AuthorizedRequestContext {
    var coreContext: CoreRequestContextStorage
    var token: APIToken?

    init(source: Source) {
        coreContext = .init(source: source)
        token = nil
    }
}
