internal import Hummingbird
internal import NIOCore

/// `GET /`: the dashboard, one self-contained page compiled into the binary (no token:
/// the page asks for it and sends it with its API calls).
struct DashboardRoutes<Context: RequestContext>: Sendable {
    func register(on router: Router<Context>) {
        let page = ByteBuffer(bytes: PackageResources.dashboard_html)
        router.get("/") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-cache"],
                body: .init(byteBuffer: page))
        }
    }
}
