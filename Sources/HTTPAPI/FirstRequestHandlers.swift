internal import HummingbirdCore
internal import Logging
internal import NIOCore
internal import NIOHTTP1

/// An HTTP child channel with handlers of its own placed right after the HTTP/1 request
/// decoder, where they see the first request head before anything else does (the
/// WebSocket upgrade handler included) and can act on it or on its absence. Each handler
/// removes itself once it is done.
struct FirstRequestHandlers<Inner: ServerChildChannel>: ServerChildChannel {
    typealias Value = Inner.Value

    let inner: Inner
    let handlers: @Sendable () -> [any ChannelHandler]

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let value = inner.setup(channel: channel, logger: logger)
        do {
            let pipeline = channel.pipeline.syncOperations
            let decoder = try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try pipeline.addHandlers(handlers(), position: .after(decoder))
        } catch {
            logger.error("cannot install the first-request handlers", metadata: ["error": "\(error)"])
            channel.close(promise: nil)
        }
        return value
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}
