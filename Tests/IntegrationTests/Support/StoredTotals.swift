import Foundation
import Testing

/// Per-series totals over everything stored, "device/metric" → (count, sum), from the
/// JSON rows of `sensorhub query --window 1d` (run with `source`: `--server URL` or
/// `--db PATH`).
func storedTotals(_ source: [String]) async throws -> [String: (count: Int, sum: Double)] {
    let output = try await runSensorhub(["query", "--window", "1d", "--format", "json"] + source)
    let rows = try #require(JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [[String: Any]], "\(output.stdout)\(output.stderr)")
    var result: [String: (count: Int, sum: Double)] = [:]
    for row in rows {
        let key = "\(row["device"]!)/\(row["metric"]!)"
        let previous = result[key] ?? (0, 0)
        result[key] = (previous.count + (row["count"] as? Int ?? 0), previous.sum + (row["sum"] as? Double ?? 0))
    }
    return result
}

/// Per-series totals stored by `daemon`, through its HTTP API.
func totals(_ daemon: Daemon) async throws -> [String: (count: Int, sum: Double)] {
    try await storedTotals(["--server", daemon.baseURL.absoluteString])
}

/// Waits until the readings `daemon` stored add up to `expected` (or `timeout` passes);
/// returns the totals it saw last.
func waitForTotal(_ daemon: Daemon, _ expected: Int, timeout: Duration = generousDeadline) async throws -> [String: (count: Int, sum: Double)] {
    let deadline = ContinuousClock.now + timeout
    while true {
        let current = try await totals(daemon)
        if current.values.reduce(0, { $0 + $1.count }) >= expected || ContinuousClock.now > deadline { return current }
        try await Task.sleep(for: .milliseconds(100))
    }
}

/// Waits until the readings in `daemon`'s database file add up to `expected` (or
/// `timeout` passes): what its flushes committed, where its own answers also count what
/// it has not flushed yet.
func waitForFlushedTotal(_ daemon: Daemon, _ expected: Int, timeout: Duration = generousDeadline) async throws -> Int {
    let deadline = ContinuousClock.now + timeout
    while true {
        let flushed = try await storedTotals(["--db", daemon.databasePath]).values.reduce(0) { $0 + $1.count }
        if flushed >= expected || ContinuousClock.now > deadline { return flushed }
        try await Task.sleep(for: .milliseconds(100))
    }
}
