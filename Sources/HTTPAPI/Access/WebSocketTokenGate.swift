internal import Hummingbird
internal import HummingbirdCore
internal import NIOCore
internal import NIOHTTP1

/// Answers a WebSocket upgrade to `/v1/ws` without the configured token with 401, as
/// every other `/v1` route does (CONTRACT.md §2). hummingbird-websocket can only refuse an
/// upgrade with 400, so the token is checked here, on the first request of a connection
/// (the only one that may upgrade), before the upgrade handler sees it
/// (``FirstRequestHandlers`` places it).
enum WebSocketTokenGate {
    /// Looks at the head of the first request only, then leaves the pipeline.
    final class Handler: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias InboundOut = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let token: String
        let onRejected: @Sendable () -> Void
        private var rejected = false

        init(token: String, onRejected: @escaping @Sendable () -> Void) {
            self.token = token
            self.onRejected = onRejected
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard !rejected else { return }  // the rest of a refused request
            guard case .head(let head) = unwrapInboundIn(data) else {
                context.fireChannelRead(data)
                return
            }
            if Self.isWebSocketUpgrade(head), !authorized(head) {
                rejected = true
                onRejected()
                refuse(context: context)
                return
            }
            context.fireChannelRead(data)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }

        private static func isWebSocketUpgrade(_ head: HTTPRequestHead) -> Bool {
            head.headers[canonicalForm: "upgrade"].contains { $0.lowercased() == "websocket" }
        }

        private func authorized(_ head: HTTPRequestHead) -> Bool {
            let uri = URI(head.uri)
            let presented = BearerTokenMiddleware<BasicRequestContext>.presentedToken(
                authorization: head.headers.first(name: "authorization"), path: uri.path,
                queryToken: uri.queryParameters["access_token"].map(String.init))
            guard let presented else { return false }
            return BearerTokenMiddleware<BasicRequestContext>.constantTimeEquals(presented.utf8, token.utf8)
        }

        /// The middleware's 401 (``BearerTokenMiddleware/rejection``), then close.
        private func refuse(context: ChannelHandlerContext) {
            let rejection = BearerTokenMiddleware<BasicRequestContext>.rejection
            let body = (try? rejection.body()) ?? ByteBuffer()
            var headers = HTTPHeaders()
            for field in rejection.headers { headers.add(name: field.name.canonicalName, value: field.value) }
            headers.add(name: "content-type", value: "application/json")
            headers.add(name: "content-length", value: String(body.readableBytes))
            headers.add(name: "connection", value: "close")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .unauthorized, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
