import SensorCore

/// The newest stored chunk per (series, resolution) that this process wrote, as bytes, so
/// the next flush into a still-open chunk merges without reading the row back.
///
/// Sound only while this process is the file's single writer, which ``WriterLock``
/// enforces. A flush records each chunk as it writes it, so an entry is always what its
/// row holds in the flush's transaction; should that transaction fail, the store empties
/// the cache (``removeAll()``), and later writes read their rows back.
///
/// Bounded in memory at all times: a chunk's bytes are kept only while they fit in
/// `budget`, else its entry only notes that the chunk was written (what
/// ``holdsChunk(atOrAfter:in:)`` tells), and a later write into it reads its row back.
/// After a write that found the budget full, the bytes of the oldest chunks are let go
/// (``makeRoom()``), so series still sending take the place of those gone quiet. Reading a
/// row back costs one indexed lookup; keeping a busy series' three open chunks costs
/// kilobytes: 4,000 such series held 11 MB at the long run's peak (heaptrack) when the
/// budget was 64 MiB and only trimmed after each commit, and the daemon's peak RSS was
/// 15-20 MiB lower without them.
///
/// Entries are kept per resolution in an array indexed by series id: the ids of a file
/// are dense (rows of `series` are never deleted, and SQLite gives an insert the next
/// rowid), so 16 bytes a series and resolution, where a hash table of (series, resolution)
/// slots took 32 bytes a slot, doubled, and was rehashed as it grew: 16.8 MB for the
/// 300,000 slots of 100,000 series (heaptrack). The arrays are not counted in the budget:
/// 4.8 MB for 100,000 series written at three resolutions.
struct ChunkCache: Sendable {
    struct Slot: Hashable, Sendable {
        var seriesID: Int64
        var resolution: Int64
    }

    struct Entry: Sendable {
        var chunkStart: Int64
        /// Nil when the chunk's bytes did not fit in the budget, or were let go.
        var bytes: [UInt8]?
    }

    /// The entries of one resolution, at their series' id.
    private struct Column: Sendable {
        let resolution: Int64
        var entries: [Entry?] = []
    }

    private var columns: [Column] = []
    /// Entries holding their chunk's bytes.
    private(set) var count = 0
    /// Memory the entries' bytes take: the bytes, and ``entryOverhead`` each.
    private(set) var memory = 0
    let budget: Int
    /// Whether a chunk's bytes were refused since the last ``makeRoom()``.
    private var refusedAny = false

    /// Ids past this are not cached: a column is as long as the largest id in it, 16 bytes
    /// an id (256 MiB at this one). A file's ids count its series, which `limits.max_series`
    /// keeps far below it (100,000 by default).
    static let largestCachedID: Int64 = 1 << 24

    /// What an entry takes besides its chunk's bytes: the array's header with malloc's
    /// rounding, and its place in its column. A chunk of a series with a reading or two
    /// is about 16 bytes: counted alone, 100,000 such series filled 8 MB of the budget and
    /// took 41 MB (heaptrack), and a fleet ten times larger would have held five times
    /// the budget.
    static let entryOverhead = 48 + MemoryLayout<Entry?>.stride

    private static func footprint(_ bytes: [UInt8]) -> Int {
        bytes.count + entryOverhead
    }

    init(budget: Int = .max) {
        self.budget = budget
    }

    /// The index of `slot`'s entry in its column; nil for an id that is not cached.
    private static func index(of slot: Slot) -> Int? {
        slot.seriesID >= 0 && slot.seriesID <= largestCachedID ? Int(slot.seriesID) : nil
    }

    private func column(of resolution: Int64) -> Int? {
        columns.firstIndex { $0.resolution == resolution }
    }

    private func entry(_ slot: Slot) -> Entry? {
        guard let index = Self.index(of: slot), let column = column(of: slot.resolution),
              index < columns[column].entries.count else { return nil }
        return columns[column].entries[index]
    }

    /// The stored bytes of chunk `chunkStart` in `slot`, if they are the cached ones.
    func stored(_ slot: Slot, chunkStart: Int64) -> [UInt8]? {
        guard let entry = entry(slot), entry.chunkStart == chunkStart else { return nil }
        return entry.bytes
    }

    /// Whether the entry of `slot` holds chunk `chunkStart` or a newer one. While a write
    /// records, a slot's entry only moves to newer chunks (``record(_:chunkStart:bytes:)``;
    /// the rest changes the cache between writes): so when this is false, no chunk from
    /// `chunkStart` on was recorded in the slot since the write began.
    func holdsChunk(atOrAfter chunkStart: Int64, in slot: Slot) -> Bool {
        entry(slot).map { $0.chunkStart >= chunkStart } ?? false
    }

    /// Records stored bytes, keeping them if they fit in the budget; an older chunk than
    /// the cached one (a late reading) is not kept.
    mutating func record(_ slot: Slot, chunkStart: Int64, bytes stored: [UInt8]) {
        guard let index = Self.index(of: slot) else { return }
        let column = column(of: slot.resolution) ?? {
            columns.append(Column(resolution: slot.resolution))
            return columns.count - 1
        }()
        if index >= columns[column].entries.count {
            columns[column].entries.append(contentsOf: repeatElement(nil, count: index + 1 - columns[column].entries.count))
        }
        if let entry = columns[column].entries[index] {
            if entry.chunkStart > chunkStart { return }
            if let bytes = entry.bytes {
                memory -= Self.footprint(bytes)
                count -= 1
            }
        }
        let fits = memory + Self.footprint(stored) <= budget
        columns[column].entries[index] = Entry(chunkStart: chunkStart, bytes: fits ? stored : nil)
        if fits {
            memory += Self.footprint(stored)
            count += 1
        } else {
            refusedAny = true
        }
    }

    /// Drops entries of `resolution` whose chunk starts before `cutoff` (deleted by retention).
    mutating func forget(resolution: Int64, before cutoff: Int64) {
        guard let column = column(of: resolution) else { return }
        for index in columns[column].entries.indices {
            guard let entry = columns[column].entries[index], entry.chunkStart < cutoff else { continue }
            letGo(column, index)
            columns[column].entries[index] = nil
        }
    }

    /// Forgets every entry (the transaction that recorded some of them failed).
    mutating func removeAll() {
        columns = []
        count = 0
        memory = 0
        refusedAny = false
    }

    /// After a write that found the budget full, lets go of the bytes of the oldest chunks
    /// down to three quarters of it: the next write keeps the bytes of the chunks it writes,
    /// mostly those of series still sending, in their place.
    mutating func makeRoom() {
        guard refusedAny else { return }
        refusedAny = false
        // 16 bytes a place, sorted in place: this runs at the end of a flush of many series,
        // when the daemon's memory peaks (a sorted copy of 24-byte places was 2.2 MB at the
        // 100,000-series run's peak in heaptrack).
        var places: [(chunkStart: Int64, column: Int32, index: Int32)] = []
        places.reserveCapacity(count)
        for column in columns.indices {
            for (index, entry) in columns[column].entries.enumerated() where entry?.bytes != nil {
                places.append((entry!.chunkStart, Int32(column), Int32(index)))
            }
        }
        places.sort { $0.chunkStart < $1.chunkStart }
        for place in places where memory > budget / 4 * 3 {
            letGo(Int(place.column), Int(place.index))
        }
    }

    /// Lets go of an entry's bytes; the entry still tells its chunk was written.
    private mutating func letGo(_ column: Int, _ index: Int) {
        guard let bytes = columns[column].entries[index]?.bytes else { return }
        columns[column].entries[index]?.bytes = nil
        memory -= Self.footprint(bytes)
        count -= 1
    }
}
