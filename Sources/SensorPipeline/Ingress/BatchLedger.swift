internal import SensorCore
internal import Synchronization

/// Which parts of identified batches (``BatchIdentity``) were taken: what makes sending a
/// batch again count none of its readings twice, with or without seq.
///
/// An entry is added when a part's journal record is committed, and comes back after a
/// restart from the store (written with the flush that covers the record) or from the
/// journal replay. Entries older than ``retention`` are forgotten, and past ``capacity``
/// entries the oldest tenth: a batch sent again later than that counts again (an import
/// sends one batch per 5,000 readings by default, so the capacity covers billions of
/// readings). Thread-safe: one lock, taken inside the shards' locks.
final class BatchLedger: Sendable {
    /// How long a taken batch is remembered (an interrupted import resumed within this
    /// time counts every reading once).
    static let retention: Duration = .seconds(7 * 24 * 3600)
    /// Most batches remembered in memory (about 100 bytes each).
    static let capacity = 1_000_000

    private struct Entry {
        var parts: [BatchPart]
        var takenAt: Int64
    }

    private let entries = Mutex<[BatchIdentity: Entry]>([:])

    /// The parts of `identity` already taken (empty when none).
    func takenParts(of identity: BatchIdentity) -> [BatchPart] {
        entries.withLock { $0[identity]?.parts ?? [] }
    }

    /// Records that `mark`'s part was taken at `time` (µs).
    func record(_ mark: BatchMark, at time: Int64) {
        entries.withLock { entries in
            var entry = entries[mark.identity] ?? Entry(parts: [], takenAt: time)
            if !entry.parts.contains(mark.part) { entry.parts.append(mark.part) }
            entry.takenAt = max(entry.takenAt, time)
            entries[mark.identity] = entry
            if entries.count > Self.capacity {
                let cutoff = entries.values.map(\.takenAt).sorted()[entries.count / 10]
                entries = entries.filter { $0.value.takenAt > cutoff }
            }
        }
    }

    /// Forgets batches taken before `time` (µs).
    func forget(takenBefore time: Int64) {
        entries.withLock { entries in entries = entries.filter { $0.value.takenAt >= time } }
    }

    /// Batches remembered.
    var count: Int { entries.withLock { $0.count } }
}
