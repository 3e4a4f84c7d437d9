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
/// The ids of the series this transaction inserts go to the store's id cache as they are
/// inserted, and the chunks it writes to the store's chunk cache as they are written: the
/// store takes them out again should the transaction fail (``SeriesIDs``, ``ChunkCache``).
struct BatchWriter {
    let db: Database
    /// Owner of the caches.
    let store: SQLiteStore
    /// The written buckets, as stored, that `report` asked for.
    private(set) var written: [Bucket] = []
    /// The buckets left out, with why.
    private(set) var setAside: [SetAsideBucket] = []
    /// The id of the first series this transaction inserted. The series it inserts are
    /// the ids from this one on (an insert takes the next rowid), and no chunk of theirs
    /// is stored but those it wrote.
    private(set) var firstInsertedID: Int64?
    /// Scratch buffers reused for every chunk.
    private var chunkBytes: [UInt8] = []
    private var sketchBytes: [UInt8] = []
    let report: (@Sendable (SeriesKey, Resolution) -> Bool)?

    init(db: Database, store: SQLiteStore, report: (@Sendable (SeriesKey, Resolution) -> Bool)?) {
        self.db = db
        self.store = store
        self.report = report
    }

    mutating func write(_ batch: FlushBatch) throws {
        try writeSeries(batch)

        let statements = ChunkStatements(
            select: BoundStatement(try db.cachedStatement(sql: "SELECT data FROM chunks WHERE series_id = ? AND resolution_s = ? AND chunk_start_us = ?"), in: db),
            upsert: BoundStatement(try db.cachedStatement(sql: """
                INSERT INTO chunks (series_id, resolution_s, chunk_start_us, data) VALUES (?, ?, ?, ?)
                ON CONFLICT (series_id, resolution_s, chunk_start_us) DO UPDATE SET data = excluded.data
                """), in: db))
        try batch.forEachGroup { group in try write(group, statements) }

        if !batch.checkpoints.isEmpty {
            let upsert = try db.cachedStatement(sql: """
                INSERT INTO journal_checkpoints (shard, position) VALUES (?, ?)
                ON CONFLICT (shard) DO UPDATE SET position = max(position, excluded.position)
                """)
            for (shard, position) in batch.checkpoints {
                try upsert.execute(arguments: [shard, position])
            }
        }
        if !batch.batchMarks.isEmpty {
            try writeBatchMarks(batch.batchMarks)
        }
        if !batch.seqWindows.isEmpty { batch.seqWindowsDurable?() }
    }

    /// Adds the parts taken to each batch's `batch_ledger` row.
    private func writeBatchMarks(_ marks: [BatchMark]) throws {
        let upsert = try db.cachedStatement(sql: """
            INSERT INTO batch_ledger (stream, ordinal, parts, taken_us) VALUES (?, ?, ?, ?)
            ON CONFLICT (stream, ordinal) DO UPDATE SET parts = parts || ',' || excluded.parts, taken_us = max(taken_us, excluded.taken_us)
            """)
        let now = WallClock.microseconds()
        for (identity, parts) in Dictionary(grouping: marks, by: \.identity) {
            let text = LedgerParts.text(parts.map(\.part))
            try upsert.execute(arguments: [identity.stream, Int64(bitPattern: identity.ordinal), text, now])
        }
    }

    private struct ChunkStatements {
        let select: BoundStatement
        let upsert: BoundStatement
    }

    /// The stored bytes of a chunk, nil when it has no row.
    private func readBack(_ key: ChunkKey, _ select: BoundStatement) throws -> [UInt8]? {
        select.bind(1, key.seriesID)
        select.bind(2, key.resolution.seconds)
        select.bind(3, key.chunkStart)
        defer { select.reset() }
        guard try select.step() else { return nil }
        return select.withBlob(0) { [UInt8]($0) }
    }

    /// Writes one group's deltas, chunk by chunk.
    private mutating func write(_ group: BucketGroup, _ statements: ChunkStatements) throws {
        // Unstorable on its own: set aside before it could create its series.
        let storable = try ChunkRuns.storable(group) { position, problem in
            try setAside(group.bucket(position), because: problem)
        }
        guard let first = storable.first else { return }
        let id = try seriesID(group.series, tag: group.tag, lastSeen: group.stats[first].lastTimestamp)
        let (stats, runs) = ChunkRuns.split(group, positions: storable)
        for run in runs {
            try write(chunk: ChunkKey(seriesID: id, resolution: group.resolution, chunkStart: run.chunkStart), of: group.series, run.deltas, stats, statements)
        }
    }

    private struct ChunkKey: Hashable {
        var seriesID: Int64
        var resolution: Resolution
        var chunkStart: Int64
    }

    /// Merges the deltas of one chunk (ascending, one per window, their stats in `stats`)
    /// into its stored bytes and writes them back.
    private mutating func write(chunk key: ChunkKey, of series: SeriesKey, _ deltas: [ChunkUpdate.Delta], _ stats: [BucketStats], _ statements: ChunkStatements) throws {
        let slot = ChunkCache.Slot(seriesID: key.seriesID, resolution: key.resolution.seconds)
        let stored: [UInt8]?
        if let firstInsertedID, key.seriesID >= firstInsertedID {
            // A series this transaction inserted has no stored chunk but those it wrote, and
            // the cache holds the newest of those per resolution (with many sparse series:
            // three reads saved per new series). A chunk it may have written (the cached one
            // is this one or newer) is read back; a later chunk than the cached one is new:
            // the second 320 s chunk of every new series of a 10-minute burst was read back.
            let (cached, mayBeWritten) = store.chunkCache.withLock {
                ($0.stored(slot, chunkStart: key.chunkStart), $0.holdsChunk(atOrAfter: key.chunkStart, in: slot))
            }
            stored = try cached ?? (mayBeWritten ? readBack(key, statements.select) : nil)
        } else {
            stored = try store.chunkCache.withLock { $0.stored(slot, chunkStart: key.chunkStart) } ?? readBack(key, statements.select)
        }
        func bucket(_ delta: ChunkUpdate.Delta) -> Bucket {
            Bucket(series: series, resolution: key.resolution, windowStart: delta.windowStart, stats: stats[delta.position])
        }
        let results: [ChunkUpdate.Result]
        do {
            results = try stored.withUnsafeOptionalBytes { bytes throws(ChunkCodec.Damage) in
                try ChunkUpdate.apply(deltas, stats: stats, to: bytes, chunkStart: key.chunkStart, resolution: key.resolution, output: &chunkBytes, sketchBytes: &sketchBytes, decimal: true)
            }
        } catch {
            for delta in deltas { try setAside(bucket(delta), because: "the stored chunk of its window is damaged (\(error))") }
            return
        }
        var changed = false
        let reporting = report?(series, key.resolution) ?? false
        // By index, not by zip: zip hands out a copy of each result, and a merged one holds
        // a bucket.
        for index in results.indices {
            switch results[index] {
            case .added:
                changed = true
                if reporting { written.append(bucket(deltas[index])) }
            case .merged(let merged):
                changed = true
                if reporting {
                    written.append(Bucket(series: series, resolution: key.resolution, windowStart: deltas[index].windowStart, stats: merged))
                }
            case .setAside(let reason):
                try setAside(bucket(deltas[index]), because: reason)
            }
        }
        guard changed else { return }
        let upsert = statements.upsert
        upsert.bind(1, key.seriesID)
        upsert.bind(2, key.resolution.seconds)
        upsert.bind(3, key.chunkStart)
        upsert.bind(4, chunkBytes)
        try upsert.run()
        // The cache then holds what its budget counts.
        let written = chunkBytes.rightSizedCopy
        store.chunkCache.withLock { $0.record(slot, chunkStart: key.chunkStart, bytes: written) }
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

    /// Adds each series' counts, or inserts the series with them when it is new, and
    /// stores its seq window in the same statement (``FlushBatch/forEachSeriesUpdate(_:)``
    /// gives each window with its series' counts). A window without counts in the batch
    /// (all the series' readings were duplicates, or came after the flush took its
    /// buckets: the pipeline stores windows as ingress has them) is stored alone; a series
    /// new that way is inserted with the latest event time of its window as last seen, and
    /// its counts come with the next flush: a last-seen of 0 would read as silent since
    /// 1970 to `absent` rules.
    private mutating func writeSeries(_ batch: FlushBatch) throws {
        let update = BoundStatement(try db.cachedStatement(sql: """
            UPDATE series SET readings = readings + ?, last_seen_us = max(last_seen_us, ?) WHERE id = ?
            """), in: db)
        let updateWithWindow = BoundStatement(try db.cachedStatement(sql: """
            UPDATE series SET readings = readings + ?, last_seen_us = max(last_seen_us, ?), seq_window = ? WHERE id = ?
            """), in: db)
        let insert = BoundStatement(try db.cachedStatement(sql: """
            INSERT INTO series (device, metric, readings, last_seen_us) VALUES (?, ?, ?, ?)
            """), in: db)
        let insertWithWindow = BoundStatement(try db.cachedStatement(sql: """
            INSERT INTO series (device, metric, readings, last_seen_us, seq_window) VALUES (?, ?, ?, ?, ?)
            """), in: db)
        let updateWindow = BoundStatement(try db.cachedStatement(sql: "UPDATE series SET seq_window = ? WHERE id = ?"), in: db)
        try batch.forEachSeriesUpdate { change in
            let window = change.window
            guard let delta = change.delta else {
                guard let window else { return }
                let lastSeen = SeqWindow(encoded: Array(window))?.latestTimestamp ?? 0
                updateWindow.bind(1, window)
                updateWindow.bind(2, try seriesID(change.series, tag: change.tag, lastSeen: lastSeen))
                try updateWindow.run()
                return
            }
            if let id = try existingID(delta.series, tag: change.tag) {
                let statement = window == nil ? update : updateWithWindow
                statement.bind(1, delta.readings)
                statement.bind(2, delta.lastSeen)
                if let window { statement.bind(3, window) }
                statement.bind(window == nil ? 3 : 4, id)
                try statement.run()
            } else {
                let statement = window == nil ? insert : insertWithWindow
                statement.bind(1, delta.series.device)
                statement.bind(2, delta.series.metric)
                statement.bind(3, delta.readings)
                statement.bind(4, delta.lastSeen)
                if let window { statement.bind(5, window) }
                try statement.run()
                inserted(delta.series, tag: change.tag, id: db.lastInsertedRowID)
            }
        }
    }

    /// The id of `series` if its row exists: from the caches, else one indexed lookup.
    private func existingID(_ series: SeriesKey, tag: SeriesTag?) throws -> Int64? {
        switch store.seriesIDs.withLock({ $0.lookUp(series, tag: tag) }) {
        case .known(let id): return id
        case .new: return nil
        case .unknown: break
        }
        let select = try db.cachedStatement(sql: "SELECT id FROM series WHERE device = ? AND metric = ?")
        guard let id = try Int64.fetchOne(select, arguments: [series.device, series.metric]) else { return nil }
        store.seriesIDs.withLock { $0.add(series, tag: tag, id: id) }
        return id
    }

    private mutating func inserted(_ series: SeriesKey, tag: SeriesTag?, id: Int64) {
        if firstInsertedID == nil { firstInsertedID = id }
        store.seriesIDs.withLock { $0.add(series, tag: tag, id: id) }
    }

    /// The id of `series`, inserting the row (0 readings, `lastSeen`) when it is new.
    private mutating func seriesID(_ series: SeriesKey, tag: SeriesTag?, lastSeen: Int64) throws -> Int64 {
        if let id = try existingID(series, tag: tag) { return id }
        let insert = try db.cachedStatement(sql: """
            INSERT INTO series (device, metric, readings, last_seen_us) VALUES (?, ?, 0, ?)
            """)
        try insert.execute(arguments: [series.device, series.metric, lastSeen])
        inserted(series, tag: tag, id: db.lastInsertedRowID)
        return db.lastInsertedRowID
    }
}

extension Optional where Wrapped == [UInt8] {
    /// The bytes, or nil, as a raw buffer for the duration of `body`.
    package func withUnsafeOptionalBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer?) throws(E) -> R) throws(E) -> R {
        guard let bytes = self else { return try body(nil) }
        return try bytes.withUnsafeBytes { buffer in Result { () throws(E) -> R in try body(buffer) } }.get()
    }
}
