import Foundation
import SensorCore
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// POSTs the fleet's readings in batches to a daemon and counts what it accepted.
struct HTTPSimulation {
    let endpoint: URL
    let token: String?

    init(server: String, token: String?) throws {
        guard let base = URL(string: server), base.scheme == "http" || base.scheme == "https" else {
            throw CommandFailure.usage("invalid --server \"\(server)\": expected http://host:port")
        }
        endpoint = base.appendingPathComponent("v1/readings")
        self.token = token
    }

    func run(_ fleet: inout Fleet, plan: SimulationPlan) async throws -> SimulationSummary {
        var progress = ProgressLine()
        let started = ContinuousClock.now
        var sent = 0, accepted = 0, rejected = 0
        while plan.continues(sent: sent, elapsed: (ContinuousClock.now - started).seconds) {
            let size = plan.nextBatch(sent: sent)
            let now = WallClock.microseconds()
            let body = "[" + (0..<size).map { _ in
                let reading = fleet.next(now: now)
                return fleet.object(series: reading.series, value: reading.value, seq: reading.seq, now: now, names: true)
            }.joined(separator: ",") + "]"
            var request = URLRequest(url: endpoint)
            request.httpMethod = "POST"
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
            while true {
                let data: Data, response: URLResponse
                do {
                    (data, response) = try await URLSession.shared.data(for: request)
                } catch {
                    throw CommandFailure.fail("cannot reach \(endpoint.absoluteString): \(error.localizedDescription)")
                }
                let status = (response as? HTTPURLResponse)?.statusCode ?? 0
                if status == 503 || status == 429 {
                    // The daemon's queue is full: back off as it asks, then resend the same batch.
                    let wait = Double((response as? HTTPURLResponse)?.value(forHTTPHeaderField: "Retry-After") ?? "1") ?? 1
                    try await Task.sleep(for: .seconds(wait))
                    continue
                }
                if status == 202, let answer = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
                    accepted += (answer["accepted"] as? Int ?? 0) + (answer["duplicates"] as? Int ?? 0)
                } else {
                    rejected += size
                    FileHandle.standardError.write(Data("simulate: \(status) \(String(decoding: data.prefix(200), as: UTF8.self))\n".utf8))
                }
                break
            }
            sent += size
            await plan.pace(sent: sent, started: started)
            progress.update("simulate: sent \(sent) readings, \(accepted) accepted")
        }
        progress.finish()
        return SimulationSummary(
            transport: "http", sent: sent, acknowledged: accepted, rejected: rejected,
            seconds: (ContinuousClock.now - started).seconds)
    }
}
