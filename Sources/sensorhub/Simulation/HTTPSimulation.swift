import AsyncHTTPClient
import Foundation
import NIOCore
import SensorCore

/// POSTs the fleet's readings in batches to a daemon and counts what it accepted.
struct HTTPSimulation {
    let transport: DaemonTransport

    init(server: String, token: String?, cacert: String?) throws {
        transport = try DaemonTransport(server: server, token: token, cacert: cacert)
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
            var request = try transport.request("v1/readings", method: .POST)
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
            while true {
                let answer = try await transport.send(request)
                if answer.status == 503 || answer.status == 429 {
                    // The daemon's queue is full: back off as it asks, then resend the same batch.
                    let wait = Double(answer.headers.first(name: "Retry-After") ?? "1") ?? 1
                    try await Task.sleep(for: .seconds(wait))
                    continue
                }
                if answer.status == 202, let counts = try? JSONSerialization.jsonObject(with: answer.body) as? [String: Any] {
                    accepted += (counts["accepted"] as? Int ?? 0) + (counts["duplicates"] as? Int ?? 0)
                } else {
                    rejected += size
                    FileHandle.standardError.write(Data("simulate: \(answer.status) \(String(decoding: answer.body.prefix(200), as: UTF8.self))\n".utf8))
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
