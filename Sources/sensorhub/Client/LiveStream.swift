import ArgumentParser
import AsyncHTTPClient
import Foundation
import SensorCore

/// One connection to the daemon's `/v1/stream`: checks the answer's status, parses the
/// event stream and hands each event over as it arrives.
///
/// How a connection ends decides what `tail` does next:
/// - returns: the daemon closed the stream (shutdown or restart) — reconnect;
/// - throws ``Interruption``: unreachable, connection lost or timed out, 5xx, 429 —
///   reconnect after a pause;
/// - throws `ExitCode` (reason already on stderr): 400 → 64 (bad filter or resolution),
///   401/403 and other answers that a retry cannot change → 1;
/// - throws `CancellationError` when the iterating task is cancelled.
struct LiveStream {
    let transport: DaemonTransport
    let request: HTTPClientRequest

    /// The daemon's base URL as the user gave it, for messages.
    var server: String { transport.baseURL.absoluteString }

    /// What ``run(_:)`` reports, in order: `connected` once, then events.
    enum Message {
        /// The daemon answered 200 with an event stream: from here on rows arrive.
        case connected
        case event(ServerSentEvent)
    }

    /// A connection that failed in a way a later attempt may not: daemon unreachable or
    /// restarting, connection lost or silent past the timeout, 5xx, 429.
    struct Interruption: Error {
        /// What happened, for the one line printed per outage.
        let reason: String
    }

    /// Error answers are read up to this size for their reason.
    private static let errorBodyLimit = 16 * 1024

    func run(_ handle: (Message) throws -> Void) async throws {
        var status = 0
        var errorBody = Data()
        var parser = ServerSentEventParser()
        do {
            let response = try await transport.open(request)
            status = Int(response.status.code)
            if status == 200 {
                let type = response.headers.first(name: "Content-Type")
                guard let type, type.lowercased().hasPrefix("text/event-stream") else {
                    throw CommandFailure.fail("\(server) answered /v1/stream with \(type ?? "no content type"), not an event stream")
                }
                try handle(.connected)
            }
            for try await chunk in response.body {
                if status == 200 {
                    for event in parser.feed(Data(buffer: chunk)) { try handle(.event(event)) }
                } else if errorBody.count < Self.errorBodyLimit {
                    errorBody.append(Data(buffer: chunk).prefix(Self.errorBodyLimit - errorBody.count))
                }
            }
        } catch let error as ExitCode {
            throw error
        } catch {
            if Task.isCancelled { throw CancellationError() }
            // A transport error: before or during a 200 stream it is worth a retry, unless
            // it is the server's certificate, which no retry changes; an error answer cut
            // short is judged below by its status.
            let reason = DaemonTransport.describe(error)
            if reason.hasPrefix("TLS:") { throw CommandFailure.fail("cannot follow \(server): \(reason)") }
            if status == 0 { throw Interruption(reason: reason) }
            if status == 200 { throw Interruption(reason: "stream lost: " + reason) }
        }
        try Task.checkCancellation()
        if status == 200 { return }
        throw refusal(status: status, body: errorBody)
    }

    /// The error for a non-200 answer: retryable for overload and server errors, the
    /// contract's exit status otherwise.
    private func refusal(status: Int, body: Data) -> any Error {
        let message = DaemonClient.errorMessage(from: body)
        switch status {
        case 400:
            return CommandFailure.usage(message.isEmpty ? "\(server) rejected the stream's filters (400)" : message)
        case 401, 403:
            let detail = message.isEmpty ? "the token is missing or wrong" : message
            return CommandFailure.fail("\(server) answered \(status): \(detail) (pass --token or set SENSORHUB_TOKEN)")
        case 404:
            return CommandFailure.fail("\(server) has no live stream (/v1/stream answered 404): is it a sensorhub daemon of this version?")
        case 408, 429, 500...599:
            return Interruption(reason: "the daemon answered \(status)" + (message.isEmpty ? "" : ": \(message)"))
        case 0:
            return Interruption(reason: "the connection closed before an answer")
        default:
            return CommandFailure.fail("\(server) answered \(status)" + (message.isEmpty ? "" : ": \(message)"))
        }
    }
}
