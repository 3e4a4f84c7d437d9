import SensorCore

/// `--dry-run`: takes every batch without sending it anywhere, so an import reads, frames
/// and decodes the whole file, counting and writing its rejects, and stores nothing. What
/// depends on a daemon's settings (time rules, series limits, dedupe) is not checked.
struct DryRunImportTarget: ImportTarget {
    func send(_ readings: [Reading], identity: BatchIdentity) async throws -> BatchAnswer {
        .taken(accepted: readings.count, duplicates: 0, replayed: 0)
    }

    func finish() async throws {}
}
