internal import Hummingbird
internal import Foundation
internal import SensorCore

/// An error answer of the API, always a JSON body: `{"error": "...", "reason": "...",
/// "index": I}` (reason and index only where they apply, CONTRACT.md §2).
struct APIError: HTTPResponseError {
    let status: HTTPResponse.Status
    let message: String
    let reason: String?
    let index: Int?
    var headers: HTTPFields = [:]

    init(_ status: HTTPResponse.Status, _ message: String, reason: RejectReason? = nil, index: Int? = nil) {
        self.status = status
        self.message = message
        self.reason = reason?.rawValue
        self.index = index
    }

    private struct Body: Encodable {
        let error: String
        let reason: String?
        let index: Int?
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = self.headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: try body()))
    }

    /// The JSON body (also for answers written below Hummingbird, ``WebSocketTokenGate``).
    func body() throws -> ByteBuffer {
        ByteBuffer(bytes: try JSONEncoder().encode(Body(error: message, reason: reason, index: index)))
    }
}
