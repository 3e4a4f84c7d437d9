internal import Foundation
internal import Hummingbird
internal import NIOCore

/// A JSON answer.
enum JSONResponse {
    /// JSON already written as text (where the contract fixes the key order, which
    /// JSONEncoder's is not).
    static func make(text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try JSONEncoder().encode(value)
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
