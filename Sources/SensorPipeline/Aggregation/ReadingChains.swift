/// The readings a shard's series keep past the four in their own entry (``FirstReadings``),
/// each series' chained in the order they came, in pages of many.
///
/// A reading takes 16 bytes here: its value, its time as a 32-bit offset from the series'
/// first kept reading's (``FirstReadings``), and the place of the series' next one. A
/// series' own array for them took 96 bytes for up to four readings (the array's header
/// besides them, and malloc's rounding past that): 19.2 MB in 223,600 arrays at the peak of
/// the run of 1,600,000 readings of 100,000 series (heaptrack), where a series has five to
/// eight readings between two flushes. Blocks of four readings (56 bytes) then held one or
/// two at that run's peak mostly: 11.3 MB, where blocks of two took 5 MB less and single
/// readings 6 MB less (the daemon's peak RSS, with CPU alike).
struct ReadingChains: Sendable {
    private struct Link: Sendable {
        var value: Double
        var offset: Int32
        /// The place of the series' next reading, or -1.
        var next: Int32 = -1
    }

    /// A series' chain: the places of its first and last reading, -1 while it has none.
    struct Chain: Sendable {
        fileprivate var first: Int32 = -1
        fileprivate var last: Int32 = -1
    }

    private var links = PagedArray<Link>()

    /// Adds a reading at the end of `chain`.
    mutating func append(_ value: Double, at offset: Int32, to chain: inout Chain) {
        let new = Int32(links.count)
        links.append(Link(value: value, offset: offset))
        if chain.last >= 0 { links[Int(chain.last)].next = new } else { chain.first = new }
        chain.last = new
    }

    /// Calls `body` with the first `count` readings of `chain`, in the order they came.
    func forEach(of chain: Chain, count: Int, _ body: (_ value: Double, _ offset: Int32) -> Void) {
        var place = chain.first
        var left = count
        while left > 0, place >= 0 {
            let link = links[Int(place)]
            body(link.value, link.offset)
            left -= 1
            place = link.next
        }
    }
}
