internal import Foundation
internal import HTTPTypes
internal import Hummingbird
internal import NIOCore
internal import SensorCore
internal import SensorPipeline

/// `POST /v1/readings`: the HTTP side of the ingest entry (``IngestEntry``): content type,
/// body size and the answers; decoding, rules, limits, journal and queue are the entry's.
///
/// Answers (CONTRACT.md §2): 202 `{"accepted": N, "duplicates": D}` once durable; 400 with
/// the reason and index of the first bad item; 413 over the body or reading limit; 415 for
/// an unknown content type; 503 with `Retry-After` when the queue has no room for the batch
/// within `http.queue_wait`, the journal cannot be written, or during recovery and shutdown;
/// 403 with the index of the first item for a device the request's ingest token may not
/// write (nothing of the batch taken, CONTRACT.md §5). Every rejection is counted under its
/// reason (by the entry).
///
/// A request may name its batch with the header `SensorHub-Batch: <stream>/<ordinal>`
/// (``BatchIdentity``): the readings of a batch already taken under that name answer as
/// duplicates, seq or not. `sensorhub import` relies on it to resume exactly.
struct IngestRoutes<Context: AuthorizedRequestContext>: Sendable {
    let ingest: IngestEntry
    let maxBodyBytes: Int
    let queueWait: Duration

    func register(on group: RouterGroup<Context>) {
        group.post("readings") { request, context in
            try await take(request, context: context)
        }
    }

    private func reject(_ error: APIError, _ reason: RejectReason) -> APIError {
        ingest.recordRejected(reason)
        return error
    }

    private func take(_ request: Request, context: Context) async throws -> Response {
        // The access middleware decides by method; this route checks the scope again, so a
        // change there can never let a read token write.
        if let token = context.token, !token.scope.allows(.ingest) {
            throw reject(AccessPolicy.forbidden(token, .ingest), .forbidden)
        }
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
        var identity: BatchIdentity?
        if let header = request.headers[HTTPField.Name.sensorHubBatch] {
            guard let parsed = BatchIdentity(header: header) else {
                throw reject(APIError(
                    .badRequest, "header \(HTTPField.Name.sensorHubBatch) \"\(header.prefix(80))\" is not <stream>/<ordinal> (stream: 1-64 of A-Z a-z 0-9 . _ -; ordinal: an unsigned integer)",
                    reason: .malformed), .malformed)
            }
            identity = parsed
        }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw reject(tooLarge, .tooLarge)
        }
        let decodeContext = DecodeContext(arrivalTime: WallClock.microseconds())
        var batch: PreparedBatch
        switch body.withUnsafeReadableBytes({ ingest.decode($0, format: format, context: decodeContext) }) {
        case .success(let decoded): batch = decoded
        case .failure(let error): throw Self.apiError(error)
        }
        batch.identity = identity
        if let token = context.token, let index = batch.readings.firstIndex(where: { !token.devices.matches($0.device) }) {
            let device = batch.readings[index].device
            throw reject(APIError(
                .forbidden, "item \(index): token \(token.name) may not write device \"\(device)\" (only \(token.devices))",
                reason: .forbidden, index: index), .forbidden)
        }
        let (outcome, replayed) = await ingest.submitCountingReplays(batch, waitingUpTo: queueWait)
        switch outcome {
        case .accepted(let accepted, let duplicates):
            // Written by hand to keep the contract's key order (JSONEncoder's is unspecified).
            // `replayed` (of the duplicates, readings of this identified batch taken by an
            // earlier send) only for a batch sent again.
            let extra = replayed > 0 ? #","replayed":\#(replayed)"# : ""
            return JSONResponse.make(text: #"{"accepted":\#(accepted),"duplicates":\#(duplicates)\#(extra)}"#, status: .accepted)
        case .rejected(let error):
            throw Self.apiError(error)
        case .queueFull:
            var error = APIError(.serviceUnavailable, "no room in the ingest queue within http.queue_wait, retry later", reason: .queueFull)
            error.headers[.retryAfter] = "1"
            throw error
        case .unavailable(let phase):
            let message = phase == .recovering
                ? "replaying the ingest journal, not accepting readings yet"
                : "shutting down, not accepting readings"
            var error = APIError(.serviceUnavailable, message, reason: .unavailable)
            error.headers[.retryAfter] = phase == .recovering ? "1" : "5"
            throw error
        case .journalFailed(let problem):
            var error = APIError(.serviceUnavailable, "cannot make readings durable: \(problem)", reason: .journalUnavailable)
            error.headers[.retryAfter] = "5"
            throw error
        }
    }

    /// 400 with the item's reason and index; 413 for a payload past the reading limit.
    private static func apiError(_ error: DecodeError) -> APIError {
        APIError(error.reason == .tooLarge ? .contentTooLarge : .badRequest, error.message, reason: error.reason, index: error.index)
    }
}

extension HTTPField.Name {
    /// The name of an identified batch (``BatchIdentity``).
    static let sensorHubBatch = Self("SensorHub-Batch")!
}
