internal import Hummingbird
internal import HummingbirdCore
internal import NIOCore
internal import NIOHTTP1
internal import SensorCore

/// Answers a WebSocket upgrade to `/v1/ws` without a known token with 401, and one with a
/// token that may not read with 403, as every other `/v1` route does (CONTRACT.md §2, §5).
/// hummingbird-websocket can only refuse an upgrade with 400, so the token is checked
/// here, on the first request of a connection (the only one that may upgrade), before the
/// upgrade handler sees it (``FirstRequestHandlers`` places it).
enum WebSocketTokenGate {
    /// Looks at the head of the first request only, then leaves the pipeline.
    final class Handler: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias InboundOut = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let policy: AccessPolicy
        let onRejected: @Sendable (RejectReason) -> Void
        private var rejected = false

        init(policy: AccessPolicy, onRejected: @escaping @Sendable (RejectReason) -> Void) {
            self.policy = policy
            self.onRejected = onRejected
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard !rejected else { return }  // the rest of a refused request
            guard case .head(let head) = unwrapInboundIn(data) else {
                context.fireChannelRead(data)
                return
            }
            if Self.isWebSocketUpgrade(head), let refusal = refusal(head) {
                rejected = true
                onRejected(refusal.reason)
                refuse(refusal.error, context: context)
                return
            }
            context.fireChannelRead(data)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }

        private static func isWebSocketUpgrade(_ head: HTTPRequestHead) -> Bool {
            head.headers[canonicalForm: "upgrade"].contains { $0.lowercased() == "websocket" }
        }

        /// Why the upgrade may not go on (the answer and the counter's reason), or nil.
        private func refusal(_ head: HTTPRequestHead) -> (error: APIError, reason: RejectReason)? {
            let uri = URI(head.uri)
            let presented = AccessPolicy.presentedToken(
                authorization: head.headers.first(name: "authorization"), path: uri.path,
                queryToken: uri.queryParameters["access_token"].map(String.init))
            switch policy.decide(presented: presented, for: .read) {
            case .allowed: return nil
            case .unauthorized: return (AccessPolicy.unauthorized, .unauthorized)
            case .forbidden(let token): return (AccessPolicy.forbidden(token, .read), .forbidden)
            }
        }

        /// The middleware's answer (``AccessPolicy``), then close.
        private func refuse(_ rejection: APIError, context: ChannelHandlerContext) {
            let body = (try? rejection.body()) ?? ByteBuffer()
            var headers = HTTPHeaders()
            for field in rejection.headers { headers.add(name: field.name.canonicalName, value: field.value) }
            headers.add(name: "content-type", value: "application/json")
            headers.add(name: "content-length", value: String(body.readableBytes))
            headers.add(name: "connection", value: "close")
            let status = HTTPResponseStatus(statusCode: Int(rejection.status.code))
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
