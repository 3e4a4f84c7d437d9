internal import GRDB
internal import Foundation
public import SensorCore

/// What a restart continues from: the journal checkpoints, the de-duplication state
/// committed with them and the series stored so far.
public struct RecoveryState: Sendable {
    /// Journal position per journal shard covered by the stored buckets.
    public var checkpoints: [Int: Int64]
    /// Seq windows of the series that send seq numbers.
    public var seqWindows: [SeriesKey: SeqWindow]
    /// Every stored series (what the series limits count).
    public var series: [SeriesKey]
}

extension SensorStore {
    /// Reads the checkpoints, seq windows and series of the last committed flush.
    /// - Throws: ``StoreError/database(operation:reason:)``, also for a seq window that
    ///   does not decode (a damaged file or one written by a newer build).
    public func recoveryState() async throws(StoreError) -> RecoveryState {
        do {
            return try await pool.read { db in
                var state = RecoveryState(checkpoints: [:], seqWindows: [:], series: [])
                for row in try Row.fetchAll(db, sql: "SELECT shard, position FROM journal_checkpoints") {
                    state.checkpoints[row[0]] = row[1]
                }
                let rows = try Row.fetchCursor(db, sql: "SELECT device, metric, seq_window, last_seen_us FROM series")
                while let row = try rows.next() {
                    let series = SeriesKey(device: row[0], metric: row[1])
                    state.series.append(series)
                    guard let bytes = row[2] as Data? else { continue }
                    // Windows written before v2 of their encoding lack the latest event
                    // time; the series' last-seen time stands in for it.
                    guard let window = SeqWindow(encoded: [UInt8](bytes), latestTimestamp: row[3]) else {
                        throw StoreError.database(operation: "recover", reason: "the seq window of \(series) does not decode (damaged, or written by a newer SensorHub)")
                    }
                    state.seqWindows[series] = window
                }
                return state
            }
        } catch {
            throw StoreError.wrapping(error, operation: "recover")
        }
    }
}
