import AsyncHTTPClient
import Foundation
import NIOCore
import SensorCore
import Synchronization

/// Sends batches to a running daemon's `POST /v1/readings` as NDJSON, each named by its
/// `SensorHub-Batch` identity so a batch sent again is never counted twice. The client
/// keeps connections alive; several batches may be in flight at once (the caller decides).
///
/// 429/503 are waited out as `Retry-After` says; a connection that fails after the
/// daemon answered once is retried with backoff for up to ``patience`` (a daemon
/// restarting), then the import stops and can be resumed.
struct ServerImportTarget: ImportTarget {
    let transport: DaemonTransport
    /// Whether any batch got an answer yet: before, an unreachable daemon fails at once.
    private let reached = ReachedFlag()
    static let patience: Duration = .seconds(60)

    init(transport: DaemonTransport) {
        self.transport = transport
    }

    func send(_ readings: [Reading], identity: BatchIdentity) async throws -> BatchAnswer {
        var body = ByteBuffer()
        body.reserveCapacity(readings.count * 96)
        for reading in readings { Self.appendLine(reading, to: &body) }
        let backoff = Backoff(minimum: .milliseconds(200), maximum: .seconds(5))
        var failures = 0
        var failingSince: ContinuousClock.Instant?
        while true {
            var request = try transport.request("v1/readings", method: .POST)
            request.headers.add(name: "Content-Type", value: "application/x-ndjson")
            request.headers.add(name: "SensorHub-Batch", value: identity.description)
            request.body = .bytes(body)
            let answer: DaemonTransport.Answer
            do {
                answer = try await transport.exchange(request, timeout: .seconds(120))
            } catch {
                let reason = DaemonTransport.describe(error)
                guard reached.value else {
                    throw ImportTargetFailure(description: "cannot reach \(transport.baseURL.absoluteString): \(reason)")
                }
                let since = failingSince ?? .now
                failingSince = since
                guard ContinuousClock.now - since < Self.patience else {
                    throw ImportTargetFailure(description: "lost \(transport.baseURL.absoluteString) for \(Self.patience): \(reason)")
                }
                try await Task.sleep(for: backoff.delay(afterFailures: failures))
                failures += 1
                continue
            }
            reached.set()
            failingSince = nil
            failures = 0
            switch answer.status {
            case 202:
                let counts = try? JSONDecoder().decode(Counts.self, from: answer.body)
                guard let counts else {
                    throw ImportTargetFailure(description: "unreadable answer from \(transport.baseURL.absoluteString): \(String(decoding: answer.body.prefix(200), as: UTF8.self))")
                }
                return .taken(accepted: counts.accepted, duplicates: counts.duplicates, replayed: counts.replayed ?? 0)
            case 429, 503:
                let wait = answer.headers.first(name: "Retry-After").flatMap { Int($0) } ?? 1
                try await Task.sleep(for: .seconds(max(1, min(wait, 60))))
            case 400, 403:
                let refusal = try? JSONDecoder().decode(Refusal.self, from: answer.body)
                guard let refusal, let index = refusal.index, readings.indices.contains(index) else {
                    throw ImportTargetFailure(description: "\(transport.baseURL.absoluteString) answered \(answer.status): \(DaemonClient.errorMessage(from: answer.body))")
                }
                let reason = RejectReason(rawValue: refusal.reason ?? "") ?? .malformed
                return .refused(index: index, reason: reason, message: refusal.error)
            case 413:
                throw ImportTargetFailure(description: "\(transport.baseURL.absoluteString) refused a batch of \(readings.count) readings as too large (\(DaemonClient.errorMessage(from: answer.body))); use a smaller --batch")
            default:
                throw ImportTargetFailure(description: "\(transport.baseURL.absoluteString) answered \(answer.status): \(DaemonClient.errorMessage(from: answer.body))")
            }
        }
    }

    func finish() async throws {}

    /// One native JSON object per reading: names need no escaping (the name rules allow
    /// none of JSON's special characters), values are Swift's shortest round-trip form,
    /// times exact microseconds.
    static func appendLine(_ reading: Reading, to body: inout ByteBuffer) {
        body.writeString(#"{"device":""#)
        body.writeString(reading.device)
        body.writeString(#"","metric":""#)
        body.writeString(reading.metric)
        body.writeString(#"","value":"#)
        body.writeString(reading.value.description)
        body.writeString(#","ts":"#)
        body.writeString(Self.seconds(reading.timestamp))
        if let seq = reading.seq {
            body.writeString(#","seq":"#)
            body.writeString(String(seq))
        }
        body.writeString("}\n")
    }

    /// Microseconds as exact decimal seconds.
    static func seconds(_ micros: Int64) -> String {
        let whole = micros.quotientAndRemainder(dividingBy: 1_000_000)
        var (seconds, fraction) = whole
        if fraction < 0 {
            seconds -= 1
            fraction += 1_000_000
        }
        guard fraction != 0 else { return String(seconds) }
        let digits = String(fraction)
        return "\(seconds).\(String(repeating: "0", count: 6 - digits.count))\(digits)"
    }

    private struct Counts: Decodable {
        let accepted: Int
        let duplicates: Int
        let replayed: Int?
    }

    private struct Refusal: Decodable {
        let error: String
        let reason: String?
        let index: Int?
    }
}

/// Set once, read from any task.
private final class ReachedFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var value: Bool { flag.load(ordering: .relaxed) }
    func set() { flag.store(true, ordering: .relaxed) }
}
