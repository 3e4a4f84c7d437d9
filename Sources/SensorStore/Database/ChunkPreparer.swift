internal import SensorCore

/// A chunk row's key.
struct ChunkKey: Hashable, Sendable {
    var seriesID: Int64
    var resolution: Resolution
    var chunkStart: Int64

    var cacheSlot: ChunkCache.Slot { ChunkCache.Slot(seriesID: seriesID, resolution: resolution.seconds) }
}

/// What the writer does for one group of a flush, made ready off its thread
/// (``BatchWriter``): everything but the SQL, in the order the writer runs it.
enum PreparedWrite: Sendable {
    /// A bucket that cannot be stored, to set aside with why.
    case setAside(Bucket, reason: String)
    /// A group whose series' id only the writer can find or insert: written there whole.
    case group(BucketGroup)
    /// One chunk of a group.
    case chunk(PreparedChunk)
}

/// One chunk of a group: its deltas and, when its stored bytes were known without a read,
/// those bytes merged with them.
struct PreparedChunk: Sendable {
    let key: ChunkKey
    let series: SeriesKey
    /// Sorted by index, one per window; their stats are `stats[delta.position]`.
    let deltas: [ChunkUpdate.Delta]
    let stats: [BucketStats]
    /// What the chunk was merged into, and the result (`.failure` when those bytes do not
    /// decode); nil while its stored bytes are still to be read back (only the writer's
    /// connection may).
    var merged: (basis: MergeBasis, result: Result<MergedChunk, ChunkCodec.Damage>)?

    func bucket(_ delta: ChunkUpdate.Delta) -> Bucket {
        Bucket(series: series, resolution: key.resolution, windowStart: delta.windowStart, stats: stats[delta.position])
    }
}

/// The stored bytes a chunk was merged into off the writer's thread, as the chunk cache
/// showed them. The writer keeps the merge only if the cache still shows them when it
/// writes the chunk (``isCurrent(for:in:)``): a batch's groups may come back to a chunk
/// (groups handed to the store as they are), and the writer may have written it since.
enum MergeBasis: Sendable {
    /// The cached bytes of the chunk.
    case cached([UInt8])
    /// No row: the flush inserted the series, and the cache held no chunk of its slot from
    /// this one on.
    case absent

    /// Whether `cache` still shows what the merge started from. The cache records every
    /// chunk the writer writes into a slot from its newest one on, each a new array: bytes
    /// it still holds, the very array the merge read, are the row's; and a slot still
    /// without this chunk or a newer one means this one was not written since
    /// (``ChunkCache/holdsChunk(atOrAfter:in:)``).
    func isCurrent(for key: ChunkKey, in cache: ChunkCache) -> Bool {
        switch self {
        case .absent:
            return !cache.holdsChunk(atOrAfter: key.chunkStart, in: key.cacheSlot)
        case .cached(let bytes):
            guard let current = cache.stored(key.cacheSlot, chunkStart: key.chunkStart), current.count == bytes.count else { return false }
            // The merge's copy keeps its array alive, so no other array can have its address.
            return current.withUnsafeBufferPointer { now in bytes.withUnsafeBufferPointer { then in now.baseAddress == then.baseAddress } }
        }
    }
}

/// A chunk's new bytes and what became of each of its deltas (``ChunkUpdate``).
struct MergedChunk: Sendable {
    var bytes: [UInt8]
    var results: [ChunkUpdate.Result]
}

/// Cuts a flush's groups into chunks and merges each into its stored bytes when those are
/// known without a read: the chunk this store wrote last (``ChunkCache``), or none for a
/// series the flush inserted. Pure but for reading the cache, so it runs on a thread of
/// its own while the writer runs the SQL (``BatchWriter``).
struct ChunkPreparer {
    let store: SQLiteStore
    /// Scratch buffers reused for every chunk.
    private var chunkBytes: [UInt8] = []
    private var sketchBytes: [UInt8] = []

    init(store: SQLiteStore) {
        self.store = store
    }

    /// Appends to `writes` what the writer does for `group`: its unstorable buckets set
    /// aside, then its chunks. When `id` does not know the series (it is not in the flush's
    /// series), the whole group, for the writer.
    mutating func prepare(_ group: BucketGroup, id: (SeriesKey) -> (id: Int64, inserted: Bool)?, into writes: inout [PreparedWrite]) {
        guard let found = id(group.series) else {
            writes.append(.group(group))
            return
        }
        let (seriesID, inserted) = found
        let storable = ChunkRuns.storable(group) { position, problem in
            writes.append(.setAside(group.bucket(position), reason: problem))
        }
        guard !storable.isEmpty else { return }
        let (stats, runs) = ChunkRuns.split(group, positions: storable)
        for run in runs {
            let key = ChunkKey(seriesID: seriesID, resolution: group.resolution, chunkStart: run.chunkStart)
            writes.append(.chunk(prepare(key, of: group.series, run.deltas, stats, seriesInserted: inserted)))
        }
    }

    /// One chunk, merged when its stored bytes are known without a read.
    mutating func prepare(_ key: ChunkKey, of series: SeriesKey, _ deltas: [ChunkUpdate.Delta], _ stats: [BucketStats], seriesInserted: Bool) -> PreparedChunk {
        var chunk = PreparedChunk(key: key, series: series, deltas: deltas, stats: stats)
        let (cached, writtenSince) = store.chunkCache.withLock {
            ($0.stored(key.cacheSlot, chunkStart: key.chunkStart), $0.holdsChunk(atOrAfter: key.chunkStart, in: key.cacheSlot))
        }
        if let cached {
            chunk.merged = (.cached(cached), merge(chunk, into: cached))
        } else if seriesInserted && !writtenSince {
            // A series this flush inserted has no stored chunk but those it wrote, and the
            // cache holds the newest of those per resolution (with many sparse series: three
            // reads saved per new series). One it may have written is read back.
            chunk.merged = (.absent, merge(chunk, into: nil))
        }
        return chunk
    }

    /// The chunk's deltas merged into `stored`, its row's bytes (nil: no row).
    mutating func merge(_ chunk: PreparedChunk, into stored: [UInt8]?) -> Result<MergedChunk, ChunkCodec.Damage> {
        do {
            let results = try stored.withUnsafeOptionalBytes { bytes throws(ChunkCodec.Damage) in
                try ChunkUpdate.apply(
                    chunk.deltas, stats: chunk.stats, to: bytes, chunkStart: chunk.key.chunkStart, resolution: chunk.key.resolution,
                    output: &chunkBytes, sketchBytes: &sketchBytes)
            }
            // A copy owning just these bytes, for the cache (``Array/rightSizedCopy``).
            return .success(MergedChunk(bytes: chunkBytes.rightSizedCopy, results: results))
        } catch {
            return .failure(error)
        }
    }
}
