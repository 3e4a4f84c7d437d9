import Foundation

/// How much to send and how fast.
struct SimulationPlan {
    let count: Int?
    let duration: Double?
    let rate: Double
    let batch: Int

    /// Seconds in `30s`, `5m`, `1h`, `500ms`; nil otherwise.
    static func seconds(_ text: String) -> Double? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3_600)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            guard let number = Double(text.dropLast(suffix.count)), number > 0, number.isFinite else { return nil }
            return number * factor
        }
        return nil
    }

    /// Whether sending should go on after `sent` readings, `elapsed` seconds in.
    func continues(sent: Int, elapsed: Double) -> Bool {
        if let count, sent >= count { return false }
        if let duration, elapsed >= duration { return false }
        return true
    }

    /// How many readings the next message or request carries.
    func nextBatch(sent: Int) -> Int {
        guard let count else { return batch }
        return min(batch, count - sent)
    }

    /// Sleeps so the average rate stays at `rate` (no-op when 0).
    func pace(sent: Int, started: ContinuousClock.Instant) async {
        guard rate > 0 else { return }
        let due = started + .seconds(Double(sent) / rate)
        if due > .now { try? await Task.sleep(until: due, clock: .continuous) }
    }

    func paceBlocking(sent: Int, started: ContinuousClock.Instant) {
        guard rate > 0 else { return }
        let ahead = (started + .seconds(Double(sent) / rate)) - .now
        if ahead > .zero {
            let (seconds, attoseconds) = ahead.components
            Thread.sleep(forTimeInterval: Double(seconds) + Double(attoseconds) * 1e-18)
        }
    }
}

/// What a run sent and got acknowledged.
struct SimulationSummary: CustomStringConvertible {
    let transport: String
    let sent: Int
    let acknowledged: Int
    let rejected: Int
    let seconds: Double

    var description: String {
        let rate = seconds > 0 ? Double(acknowledged) / seconds : 0
        return "simulate: \(transport) sent=\(sent) acknowledged=\(acknowledged) rejected=\(rejected) "
            + "elapsed=\(String(format: "%.2f", seconds))s rate=\(Int(rate)) readings/s"
    }
}
