internal import NIOCore
internal import NIOHTTP1

/// Closes a connection whose first request head has not fully arrived within `timeout`
/// of connecting (`http.idle_timeout`): one opened and left silent, or one sending its
/// head a byte at a time.
///
/// Hummingbird's own idle handling (`HTTP1Channel.Configuration.idleTimeout`) starts only
/// once a connection's first request is known not to be a WebSocket upgrade, so without
/// this a connection that never completes a request head is never closed. From the first
/// head on, Hummingbird's handling applies (idle between requests, stalled bodies).
/// ``FirstRequestHandlers`` places it.
enum RequestHeadDeadline {
    /// Waits for the first request head, then leaves the pipeline.
    final class Handler: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias InboundOut = HTTPServerRequestPart

        let timeout: TimeAmount
        private var deadline: Scheduled<Void>?

        init(timeout: TimeAmount) {
            self.timeout = timeout
        }

        func handlerAdded(context: ChannelHandlerContext) {
            let channel = context.channel
            deadline = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
        }

        func handlerRemoved(context: ChannelHandlerContext) {
            deadline?.cancel()
            deadline = nil
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            context.fireChannelRead(data)
            if case .head = unwrapInboundIn(data) {
                context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            }
        }
    }
}
