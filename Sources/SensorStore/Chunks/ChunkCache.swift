import SensorCore

/// The newest stored chunk per (series, resolution) that this process wrote, as bytes, so
/// the next flush into a still-open chunk merges without reading the row back.
///
/// Sound only while this process is the file's single writer, which ``WriterLock``
/// enforces. A flush records each chunk as it writes it, so an entry is always what its
/// row holds in the flush's transaction; should that transaction fail, the store empties
/// the cache (``removeAll()``), and later writes read their rows back. Bounded in memory:
/// after each commit, past `budget`, the entries of the oldest chunks are dropped, and a
/// later write into one of them reads its row back instead.
struct ChunkCache: Sendable {
    struct Slot: Hashable, Sendable {
        var seriesID: Int64
        var resolution: Int64
    }

    struct Entry: Sendable {
        var chunkStart: Int64
        var bytes: [UInt8]
    }

    private(set) var entries: [Slot: Entry] = [:]
    /// Memory the entries take: their chunks' bytes, and ``entryOverhead`` each.
    private(set) var memory = 0
    let budget: Int

    /// What an entry takes besides its chunk's bytes: the array's header with malloc's
    /// rounding, and its slot and entry in a table at most three quarters full. A chunk
    /// of a series with a reading or two is about 16 bytes: counted alone, 100,000 such
    /// series filled 8 MB of the budget and took 41 MB (heaptrack), and a fleet ten
    /// times larger would have held five times the budget.
    static let entryOverhead = 48 + (MemoryLayout<Slot>.stride + MemoryLayout<Entry>.stride) * 4 / 3

    private static func footprint(_ bytes: [UInt8]) -> Int {
        bytes.count + entryOverhead
    }

    init(budget: Int = .max) {
        self.budget = budget
    }

    /// Room for `count` slots without growing (each growth hashes every entry again).
    mutating func reserveCapacity(_ count: Int) {
        entries.reserveCapacity(count)
    }

    /// The stored bytes of chunk `chunkStart` in `slot`, if it is the cached one.
    func stored(_ slot: Slot, chunkStart: Int64) -> [UInt8]? {
        guard let entry = entries[slot], entry.chunkStart == chunkStart else { return nil }
        return entry.bytes
    }

    /// Whether the entry of `slot` holds chunk `chunkStart` or a newer one. While a write
    /// records, a slot's entry only moves to newer chunks (``record(_:chunkStart:bytes:)``;
    /// the rest changes the cache between writes): so when this is false, no chunk from
    /// `chunkStart` on was recorded in the slot since the write began.
    func holdsChunk(atOrAfter chunkStart: Int64, in slot: Slot) -> Bool {
        entries[slot].map { $0.chunkStart >= chunkStart } ?? false
    }

    /// Records stored bytes; an older chunk than the cached one (a late reading) is not kept.
    mutating func record(_ slot: Slot, chunkStart: Int64, bytes stored: [UInt8]) {
        if let entry = entries[slot] {
            if entry.chunkStart > chunkStart { return }
            memory -= Self.footprint(entry.bytes)
        }
        entries[slot] = Entry(chunkStart: chunkStart, bytes: stored)
        memory += Self.footprint(stored)
    }

    /// Drops entries of `resolution` whose chunk starts before `cutoff` (deleted by retention).
    mutating func forget(resolution: Int64, before cutoff: Int64) {
        entries = entries.filter { $0.key.resolution != resolution || $0.value.chunkStart >= cutoff }
        memory = entries.values.reduce(0) { $0 + Self.footprint($1.bytes) }
    }

    /// Forgets every entry (the transaction that recorded some of them failed).
    mutating func removeAll() {
        entries = [:]
        memory = 0
    }

    /// Drops the entries of the oldest chunks while past the budget.
    mutating func keepWithinBudget() {
        guard memory > budget else { return }
        // Down to three quarters, so the sort is not paid at every flush.
        for (slot, entry) in entries.sorted(by: { $0.value.chunkStart < $1.value.chunkStart }) where memory > budget / 4 * 3 {
            entries[slot] = nil
            memory -= Self.footprint(entry.bytes)
        }
    }
}
