internal import Foundation
internal import Hummingbird
internal import NIOCore
internal import SensorCore
internal import SensorPipeline

/// `POST /v1/readings`: decode, validate and queue a batch, all or nothing.
///
/// Answers (CONTRACT.md §2): 202 `{"accepted": N, "duplicates": D}` once queued; 400 with
/// the reason and index of the first bad item; 413 over the size limit; 415 for an unknown
/// content type; 503 with `Retry-After` while the queue stays full or during shutdown.
/// Every rejection is counted under its reason.
struct IngestRoutes<Context: RequestContext>: Sendable {
    let pipeline: Pipeline
    let maxBodyBytes: Int
    let queueWait: Duration

    func register(on group: RouterGroup<Context>) {
        group.post("readings") { request, context in
            try await ingest(request, context: context)
        }
    }

    private func reject(_ error: APIError, _ reason: RejectReason) -> APIError {
        pipeline.metrics.recordRejected(reason, transport: .http)
        return error
    }

    private func ingest(_ request: Request, context: Context) async throws -> Response {
        guard let contentType = request.headers[.contentType], let format = PayloadFormat(contentType: contentType) else {
            let named = request.headers[.contentType].map { "\"\($0)\"" } ?? "missing"
            throw reject(APIError(
                .unsupportedMediaType,
                "content type \(named) is not supported: use application/json, application/x-ndjson, application/senml+json or text/plain",
                reason: .unsupportedMediaType), .unsupportedMediaType)
        }
        let tooLarge = APIError(.contentTooLarge, "body is larger than the limit of \(maxBodyBytes) bytes", reason: .tooLarge)
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > maxBodyBytes {
            throw reject(tooLarge, .tooLarge)
        }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw reject(tooLarge, .tooLarge)
        }
        let decodeContext = DecodeContext(device: nil, metric: nil, arrivalTime: WallClock.microseconds())
        let decoded = body.withUnsafeReadableBytes { bytes in
            Result { () throws(DecodeError) in try ReadingDecoder.decode(bytes, format: format, context: decodeContext) }
        }
        let readings: [Reading]
        switch decoded {
        case .success(let taken):
            readings = taken
        case .failure(let error):
            throw reject(APIError(.badRequest, error.message, reason: error.reason, index: error.index), error.reason)
        }
        if let error = pipeline.timeRejection(of: readings) {
            throw reject(APIError(.badRequest, error.message, reason: error.reason, index: error.index), error.reason)
        }
        switch await pipeline.submit(readings, waitingUpTo: queueWait) {
        case .accepted(let accepted, let duplicates):
            pipeline.metrics.recordIngested(accepted, transport: .http, format: format)
            // Written by hand to keep the contract's key order (JSONEncoder's is unspecified).
            return Self.json(text: #"{"accepted":\#(accepted),"duplicates":\#(duplicates)}"#, status: .accepted)
        case .queueFull:
            var error = APIError(.serviceUnavailable, "ingest queue is full, retry later", reason: .queueFull)
            error.headers[.retryAfter] = "1"
            throw reject(error, .queueFull)
        case .unavailable(let phase):
            let message = phase == .recovering
                ? "replaying the ingest journal, not accepting readings yet"
                : "shutting down, not accepting readings"
            var error = APIError(.serviceUnavailable, message, reason: .unavailable)
            error.headers[.retryAfter] = phase == .recovering ? "1" : "5"
            throw reject(error, .unavailable)
        case .journalFailed(let problem):
            var error = APIError(.serviceUnavailable, "cannot make readings durable: \(problem)", reason: .journalUnavailable)
            error.headers[.retryAfter] = "5"
            throw reject(error, .journalUnavailable)
        }
    }

    static func json(text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try JSONEncoder().encode(value)
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
