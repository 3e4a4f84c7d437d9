// A Hummingbird server that takes POST /v1/readings, counts the body's `{` and answers 202
// without decoding or storing anything: how fast HTTP alone goes under W3's load
// generator on this machine (Benchmarks/http-floor.sh).
//
//     http-floor PORT [ws|plain]
//
// `ws` serves SensorHub's channel (HTTP/1 with WebSocket upgrades, a 60 s idle timeout);
// `plain` HTTP/1 with the same timeout. Tasks run on NIO's event loops, as in the daemon.
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import NIOCore
import NIOPosix

NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
let arguments = Array(CommandLine.arguments.dropFirst())
let port = Int(arguments.first ?? "18297") ?? 18297
let withWebSocket = arguments.dropFirst().first != "plain"

let router = Router()
router.post("v1/readings") { request, _ -> Response in
    var request = request
    let body = try await request.collectBody(upTo: 1 << 20)
    let items = body.withUnsafeReadableBytes { $0.reduce(0) { $1 == UInt8(ascii: "{") ? $0 + 1 : $0 } }
    var buffer = ByteBuffer()
    buffer.writeString(#"{"accepted":\#(items),"duplicates":0}"#)
    return Response(status: .accepted, headers: [.contentType: "application/json"], body: .init(byteBuffer: buffer))
}
router.get("healthz") { _, _ in "ok" }

let webSocketRouter = Router(context: BasicWebSocketRequestContext.self)
webSocketRouter.ws("v1/ws") { inbound, _, _ in
    for try await _ in inbound {}
}
let http1 = HTTP1Channel.Configuration(idleTimeout: .seconds(60))
let server: HTTPServerBuilder = withWebSocket
    ? .http1WebSocketUpgrade(
        webSocketRouter: webSocketRouter,
        configuration: HTTP1WebSocketUpgradeChannel.Configuration(http1: http1, ws: WebSocketServerConfiguration(closeTimeout: .seconds(3))))
    : .http1(configuration: http1)
let app = Application(router: router, server: server, configuration: .init(address: .hostname("127.0.0.1", port: port)))
try await app.runService()
