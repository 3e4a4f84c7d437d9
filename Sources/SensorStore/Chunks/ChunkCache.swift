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
/// Entries are kept per resolution in a list indexed by series id: the ids of a file are
/// dense (rows of `series` are never deleted, and SQLite gives an insert the next rowid).
/// An entry is 8 bytes, the chunk's number and where its bytes are kept: with a 16-byte
/// entry, 100,000 series written at three resolutions took 4.8 MB, and 6.3 MB at the
/// peak of their first flush while the lists grew (heaptrack). The lists are not counted
/// in the budget: 2.4 MB for those series.
struct ChunkCache: Sendable {
    struct Slot: Hashable, Sendable {
        var seriesID: Int64
        var resolution: Int64
    }

    /// A slot's newest recorded chunk: its number (its start over its resolution's chunk
    /// span) and the place of its bytes in `kept`, -1 when they are not kept.
    private struct Entry: Sendable {
        var chunk: Int32
        var bytes: Int32

        static let none = Entry(chunk: noChunk, bytes: -1)
        /// No chunk was recorded.
        static let noChunk = Int32.min
        /// A chunk whose number does not fit (a time thousands of years away) was recorded:
        /// any chunk of the slot may have been, so every write into it reads its row back.
        static let anyChunk = Int32.max
    }

    /// The entries of one resolution, at their series' id.
    private struct Column: Sendable {
        let resolution: Int64
        /// A chunk's span, µs (``ChunkLayout/span(_:)``).
        let span: Int64
        var entries: [Entry] = []
    }

    private var columns: [Column] = []
    /// The bytes the entries keep; a place let go is empty and listed in `freePlaces`.
    private var kept: [[UInt8]] = []
    private var freePlaces: [Int32] = []
    /// Entries holding their chunk's bytes.
    private(set) var count = 0
    /// Memory the entries' bytes take: the bytes, and ``entryOverhead`` each.
    private(set) var memory = 0
    let budget: Int
    /// Whether a chunk's bytes were refused since the last ``makeRoom()``.
    private var refusedAny = false

    /// Ids past this are not cached: a list is as long as the largest id in it, 8 bytes an
    /// id (128 MiB at this one). A file's ids count its series, which `limits.max_series`
    /// keeps far below it (100,000 by default).
    static let largestCachedID: Int64 = 1 << 24

    /// What an entry takes besides its chunk's bytes: the array's header with malloc's
    /// rounding, its place in `kept`, and its entry. A chunk of a series with a reading or
    /// two is about 16 bytes: counted alone, 100,000 such series filled 8 MB of the budget
    /// and took 41 MB (heaptrack), and a fleet ten times larger would have held five times
    /// the budget.
    static let entryOverhead = 48 + MemoryLayout<[UInt8]>.stride + MemoryLayout<Entry>.stride

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

    /// The number of the chunk starting at `chunkStart` in a column of `span`; nil when it
    /// does not fit an entry.
    private static func number(of chunkStart: Int64, span: Int64) -> Int32? {
        guard chunkStart.isMultiple(of: span), let number = Int32(exactly: chunkStart / span),
              number != Entry.noChunk, number != Entry.anyChunk else { return nil }
        return number
    }

    private func column(of resolution: Int64) -> Int? {
        columns.firstIndex { $0.resolution == resolution }
    }

    /// The entry of `slot` and its column's span; nil when no chunk of it was recorded.
    private func entry(_ slot: Slot) -> (entry: Entry, span: Int64)? {
        guard let index = Self.index(of: slot), let column = column(of: slot.resolution),
              index < columns[column].entries.count else { return nil }
        let entry = columns[column].entries[index]
        return entry.chunk == Entry.noChunk ? nil : (entry, columns[column].span)
    }

    /// The stored bytes of chunk `chunkStart` in `slot`, if they are the cached ones.
    func stored(_ slot: Slot, chunkStart: Int64) -> [UInt8]? {
        guard let (entry, span) = entry(slot), entry.bytes >= 0, entry.chunk == Self.number(of: chunkStart, span: span) else { return nil }
        return kept[Int(entry.bytes)]
    }

    /// Whether the entry of `slot` holds chunk `chunkStart` or a newer one. While a write
    /// records, a slot's entry only moves to newer chunks (``record(_:chunkStart:bytes:)``;
    /// the rest changes the cache between writes): so when this is false, no chunk from
    /// `chunkStart` on was recorded in the slot since the write began. True for a slot
    /// that is not cached, which may have been written.
    func holdsChunk(atOrAfter chunkStart: Int64, in slot: Slot) -> Bool {
        guard Self.index(of: slot) != nil else { return true }
        guard let (entry, span) = entry(slot) else { return false }
        return entry.chunk == Entry.anyChunk || Int64(entry.chunk) * span >= chunkStart
    }

    /// Records stored bytes, keeping them if they fit in the budget; an older chunk than
    /// the cached one (a late reading) is not kept.
    mutating func record(_ slot: Slot, chunkStart: Int64, bytes stored: [UInt8]) {
        guard let index = Self.index(of: slot) else { return }
        let column = column(of: slot.resolution) ?? {
            columns.append(Column(resolution: slot.resolution, span: slot.resolution * 1_000_000 * ChunkLayout.windows))
            return columns.count - 1
        }()
        if index >= columns[column].entries.count {
            columns[column].entries.append(contentsOf: repeatElement(.none, count: index + 1 - columns[column].entries.count))
        }
        let before = columns[column].entries[index]
        guard before.chunk != Entry.anyChunk else { return }
        guard let number = Self.number(of: chunkStart, span: columns[column].span) else {
            letGo(column, index)
            columns[column].entries[index].chunk = Entry.anyChunk
            return
        }
        if before.chunk != Entry.noChunk, before.chunk > number { return }
        letGo(column, index)
        var entry = Entry(chunk: number, bytes: -1)
        if memory + Self.footprint(stored) <= budget {
            entry.bytes = keep(stored)
            memory += Self.footprint(stored)
            count += 1
        } else {
            refusedAny = true
        }
        columns[column].entries[index] = entry
    }

    /// Drops entries of `resolution` whose chunk starts before `cutoff` (deleted by retention).
    mutating func forget(resolution: Int64, before cutoff: Int64) {
        guard let column = column(of: resolution) else { return }
        let span = columns[column].span
        for index in columns[column].entries.indices {
            let chunk = columns[column].entries[index].chunk
            guard chunk != Entry.noChunk, chunk != Entry.anyChunk, Int64(chunk) * span < cutoff else { continue }
            letGo(column, index)
            columns[column].entries[index] = .none
        }
    }

    /// Forgets every entry (the transaction that recorded some of them failed).
    mutating func removeAll() {
        columns = []
        kept = []
        freePlaces = []
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
            for (index, entry) in columns[column].entries.enumerated() where entry.bytes >= 0 {
                places.append((Int64(entry.chunk) * columns[column].span, Int32(column), Int32(index)))
            }
        }
        places.sort { $0.chunkStart < $1.chunkStart }
        for place in places where memory > budget / 4 * 3 {
            letGo(Int(place.column), Int(place.index))
        }
    }

    /// Keeps `bytes` in a free place of `kept`, or a new one; returns the place.
    private mutating func keep(_ bytes: [UInt8]) -> Int32 {
        if let place = freePlaces.popLast() {
            kept[Int(place)] = bytes
            return place
        }
        kept.append(bytes)
        return Int32(kept.count - 1)
    }

    /// Lets go of an entry's bytes; the entry still tells its chunk was written.
    private mutating func letGo(_ column: Int, _ index: Int) {
        let place = columns[column].entries[index].bytes
        guard place >= 0 else { return }
        memory -= Self.footprint(kept[Int(place)])
        count -= 1
        kept[Int(place)] = []
        freePlaces.append(place)
        columns[column].entries[index].bytes = -1
    }
}
