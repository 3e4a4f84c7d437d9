internal import HummingbirdCore
internal import Logging
internal import NIOCore
internal import NIOSSL

/// A child channel that speaks TLS before its inner channel, with swift-nio-ssl's server
/// handler and the context ``ServerCertificate`` holds at the moment the connection is
/// accepted (HummingbirdTLS's `TLSChannel` fixes its context once, so a renewed
/// certificate would need a restart).
struct ReloadableTLSChannel<Inner: ServerChildChannel>: ServerChildChannel {
    typealias Value = Inner.Value

    let inner: Inner
    let certificate: ServerCertificate

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: certificate.current))
        }.flatMap {
            inner.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}
