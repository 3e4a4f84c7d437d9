internal import GRDB
internal import Foundation
import SensorCore

/// Applies one ``FlushBatch`` inside the writer's open transaction, with cached prepared
/// statements only (no SQL text is built per row).
///
/// Series ids come from the committed id cache, else one indexed lookup, else an insert.
/// Bucket deltas are grouped by chunk (``ChunkLayout``: one row per series, resolution
/// and 32 windows), and each chunk touched costs one UPSERT of its new bytes
/// (``ChunkUpdate``), built from the cached bytes of the chunk this store wrote last
/// (``ChunkCache``) or, for an older chunk (late readings, the first flush after a
/// restart), from the row read back.
///
/// A bucket that cannot be stored (stats that are not finite, alone or merged with the
/// stored ones, or a stored chunk that does not decode) is set aside: written whole to
/// `set_aside_buckets` and left out, while the rest of the flush is stored. Errors of the
/// database itself (disk full, I/O, locked) fail the whole write.
///
/// What this transaction created or stored is collected in `createdIDs` / `touched` and
/// reaches the store's caches only after the commit, so a rollback leaves them exact.
struct BatchWriter {
    let db: Database
    /// Owner of the committed caches (read here under their locks, never written).
    let store: SensorStore
    private(set) var createdIDs: [SeriesKey: Int64] = [:]
    private(set) var touched = ChunkCache()
    /// The written buckets, as stored, that `report` asked for.
    private(set) var written: [Bucket] = []
    /// The buckets left out, with why.
    private(set) var setAside: [SetAsideBucket] = []
    /// Scratch buffers reused for every chunk.
    private var chunkBytes: [UInt8] = []
    private var sketchBytes: [UInt8] = []
    let report: (@Sendable (SeriesKey, Resolution) -> Bool)?

    init(db: Database, store: SensorStore, report: (@Sendable (SeriesKey, Resolution) -> Bool)?) {
        self.db = db
        self.store = store
        self.report = report
    }

    /// One chunk's deltas: the chunk and, for each delta, its place in the chunk and in the batch.
    private struct ChunkKey: Hashable, Comparable {
        var seriesID: Int64
        var resolution: Resolution
        var chunkStart: Int64

        static func < (lhs: ChunkKey, rhs: ChunkKey) -> Bool {
            (lhs.seriesID, lhs.resolution.seconds, lhs.chunkStart) < (rhs.seriesID, rhs.resolution.seconds, rhs.chunkStart)
        }
    }

    mutating func write(_ batch: FlushBatch) throws {
        let updateSeries = BoundStatement(try db.cachedStatement(sql: """
            UPDATE series SET readings = readings + ?, last_seen_us = max(last_seen_us, ?) WHERE id = ?
            """), in: db)
        for delta in batch.series {
            let id = try seriesID(delta.series, lastSeen: delta.lastSeen)
            updateSeries.bind(1, delta.readings)
            updateSeries.bind(2, delta.lastSeen)
            updateSeries.bind(3, id)
            try updateSeries.run()
        }

        var chunks: [ChunkKey: [Int]] = [:]
        // Buckets come grouped by series: one id lookup per run of them.
        var last: (series: SeriesKey, id: Int64)?
        for (position, delta) in batch.buckets.enumerated() where delta.stats.count > 0 {
            // Unstorable on its own: set aside before it could create its series.
            if let problem = delta.stats.storageProblem {
                try setAside(delta, because: problem)
                continue
            }
            let id: Int64
            if let last, last.series == delta.series {
                id = last.id
            } else {
                id = try seriesID(delta.series, lastSeen: delta.stats.lastTimestamp)
                last = (delta.series, id)
            }
            let key = ChunkKey(
                seriesID: id, resolution: delta.resolution,
                chunkStart: ChunkLayout.chunkStart(of: delta.windowStart, delta.resolution))
            chunks[key, default: []].append(position)
        }
        let select = try db.cachedStatement(sql: "SELECT data FROM chunks WHERE series_id = ? AND resolution_s = ? AND chunk_start_us = ?")
        let upsert = BoundStatement(try db.cachedStatement(sql: """
            INSERT INTO chunks (series_id, resolution_s, chunk_start_us, data) VALUES (?, ?, ?, ?)
            ON CONFLICT (series_id, resolution_s, chunk_start_us) DO UPDATE SET data = excluded.data
            """), in: db)
        for key in chunks.keys.sorted() {
            try write(chunk: key, deltas: chunks[key]!.map { batch.buckets[$0] }, select: select, upsert: upsert)
        }

        if !batch.seqWindows.isEmpty {
            let updateWindow = try db.cachedStatement(sql: "UPDATE series SET seq_window = ? WHERE id = ?")
            for (series, window) in batch.seqWindows {
                let id = try seriesID(series, lastSeen: 0)
                try updateWindow.execute(arguments: [Data(window.encoded), id])
            }
        }
        if !batch.checkpoints.isEmpty {
            let upsert = try db.cachedStatement(sql: """
                INSERT INTO journal_checkpoints (shard, position) VALUES (?, ?)
                ON CONFLICT (shard) DO UPDATE SET position = max(position, excluded.position)
                """)
            for (shard, position) in batch.checkpoints {
                try upsert.execute(arguments: [shard, position])
            }
        }
    }

    /// Merges the deltas of one chunk (any order, windows may repeat) into its stored
    /// bytes and writes them back.
    private mutating func write(chunk key: ChunkKey, deltas: [Bucket], select: Statement, upsert: BoundStatement) throws {
        // One delta per window, in window order.
        var byWindow: [Int64: Bucket] = [:]
        for delta in deltas {
            if var earlier = byWindow[delta.windowStart] {
                earlier.stats.merge(delta.stats)
                byWindow[delta.windowStart] = earlier
            } else {
                byWindow[delta.windowStart] = delta
            }
        }
        let ordered = byWindow.values.sorted { $0.windowStart < $1.windowStart }
        let slot = ChunkCache.Slot(seriesID: key.seriesID, resolution: key.resolution.seconds)
        let cached = touched.stored(slot, chunkStart: key.chunkStart)
            ?? store.chunkCache.withLock { $0.stored(slot, chunkStart: key.chunkStart) }
        let stored = try cached ?? (Row.fetchOne(select, arguments: [key.seriesID, key.resolution.seconds, key.chunkStart])?[0] as Data?).map { [UInt8]($0) }
        let results: [ChunkUpdate.Result]
        do {
            let updates = ordered.map {
                ChunkUpdate.Delta(index: ChunkLayout.index(of: $0.windowStart, inChunkAt: key.chunkStart, key.resolution), windowStart: $0.windowStart, stats: $0.stats)
            }
            results = try stored.withUnsafeOptionalBytes { bytes throws(ChunkCodec.Damage) in
                try ChunkUpdate.apply(updates, to: bytes, chunkStart: key.chunkStart, resolution: key.resolution, output: &chunkBytes, sketchBytes: &sketchBytes)
            }
        } catch {
            for delta in ordered { try setAside(delta, because: "the stored chunk of its window is damaged (\(error))") }
            return
        }
        var changed = false
        for (delta, result) in zip(ordered, results) {
            switch result {
            case .stored(let stats):
                changed = true
                if let report, report(delta.series, delta.resolution) {
                    written.append(Bucket(series: delta.series, resolution: delta.resolution, windowStart: delta.windowStart, stats: stats))
                }
            case .setAside(let reason):
                try setAside(delta, because: reason)
            }
        }
        guard changed else { return }
        upsert.bind(1, key.seriesID)
        upsert.bind(2, key.resolution.seconds)
        upsert.bind(3, key.chunkStart)
        upsert.bind(4, chunkBytes)
        try upsert.run()
        touched.record(slot, chunkStart: key.chunkStart, bytes: chunkBytes)
    }

    /// Keeps a delta that cannot be stored in `set_aside_buckets`, whole.
    private mutating func setAside(_ delta: Bucket, because reason: String) throws {
        let insert = try db.cachedStatement(sql: """
            INSERT INTO set_aside_buckets (device, metric, resolution_s, start_us, reason, stats, set_aside_us)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """)
        try insert.execute(arguments: [
            delta.series.device, delta.series.metric, delta.resolution.seconds, delta.windowStart, reason,
            Data(delta.stats.encoded), WallClock.microseconds(),
        ])
        setAside.append(SetAsideBucket(series: delta.series, resolution: delta.resolution, windowStart: delta.windowStart, reason: reason))
    }

    /// The id of `series`, inserting the row (0 readings, `lastSeen`) when it is new.
    private mutating func seriesID(_ series: SeriesKey, lastSeen: Int64) throws -> Int64 {
        if let id = createdIDs[series] ?? store.seriesIDs.withLock({ $0[series] }) { return id }
        let select = try db.cachedStatement(sql: "SELECT id FROM series WHERE device = ? AND metric = ?")
        let id: Int64
        if let existing = try Int64.fetchOne(select, arguments: [series.device, series.metric]) {
            id = existing
        } else {
            let insert = try db.cachedStatement(sql: """
                INSERT INTO series (device, metric, readings, last_seen_us) VALUES (?, ?, 0, ?)
                """)
            try insert.execute(arguments: [series.device, series.metric, lastSeen])
            id = db.lastInsertedRowID
        }
        createdIDs[series] = id
        return id
    }
}

extension Optional where Wrapped == [UInt8] {
    /// The bytes, or nil, as a raw buffer for the duration of `body`.
    func withUnsafeOptionalBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer?) throws(E) -> R) throws(E) -> R {
        guard let bytes = self else { return try body(nil) }
        return try bytes.withUnsafeBytes { buffer in Result { () throws(E) -> R in try body(buffer) } }.get()
    }
}
