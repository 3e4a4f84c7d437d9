/// The readings a shard's series keep past the four in their own entry (``FirstReadings``),
/// in blocks of four, each series' blocks chained in the order they came.
///
/// A series' own array for them took 96 bytes for up to four readings (the array's header
/// besides them, and malloc's rounding past that): 19.2 MB in 223,600 arrays at the peak of
/// the run of 1,600,000 readings of 100,000 series (heaptrack), where a series has five to
/// eight readings between two flushes. A block takes 56 bytes, in pages of many: times are
/// kept as 32-bit offsets from the series' first kept reading's (``FirstReadings``).
struct ReadingBlocks: Sendable {
    private struct Block: Sendable {
        var offsets = InlineArray<4, Int32>(repeating: 0)
        var values = InlineArray<4, Double>(repeating: 0)
        /// The series' next block, or -1.
        var next: Int32 = -1
    }

    /// A series' chain: its first and last block, -1 while it has none.
    struct Chain: Sendable {
        fileprivate var first: Int32 = -1
        fileprivate var last: Int32 = -1
    }

    private var blocks = PagedArray<Block>()

    /// Adds the reading at `position` (0, 1, … in the order they came) of `chain`.
    mutating func append(_ value: Double, at offset: Int32, position: Int, to chain: inout Chain) {
        let slot = position % 4
        if slot == 0 {
            let new = Int32(blocks.count)
            blocks.append(Block())
            if chain.last >= 0 { blocks[Int(chain.last)].next = new } else { chain.first = new }
            chain.last = new
        }
        blocks[Int(chain.last)].offsets[slot] = offset
        blocks[Int(chain.last)].values[slot] = value
    }

    /// Calls `body` with the first `count` readings of `chain`, in the order they came.
    func forEach(of chain: Chain, count: Int, _ body: (_ value: Double, _ offset: Int32) -> Void) {
        var block = chain.first
        var left = count
        while left > 0, block >= 0 {
            let readings = blocks[Int(block)]
            for slot in 0..<min(4, left) { body(readings.values[slot], readings.offsets[slot]) }
            left -= 4
            block = readings.next
        }
    }
}
