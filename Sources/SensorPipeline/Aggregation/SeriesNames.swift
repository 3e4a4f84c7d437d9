internal import SensorCore
internal import SensorStore

/// The key of a shard's series by its number (``SeriesSlot/index``): the registry's, which
/// holds every series' key once.
///
/// Pending buckets keep a series' number, 4 bytes, where its key took 32 (two strings)
/// in every pending series, twice while a flush writes one generation and the shard fills
/// the next: 3.2 MB for 100,000 series. A key is looked up when a flush or a query reads
/// the series, never per reading; a flush or a query over many series looks them up a
/// page at a time (``keys(of:)``).
struct SeriesNames: Sendable {
    /// The shard whose numbers these are: with a number, a series' tag for the store
    /// (``tag(of:)``).
    let shard: Int32
    private let key: @Sendable (Int32) -> SeriesKey
    private let keys: @Sendable ([Int32]) -> [SeriesKey]

    /// Names from `key`, one number at a time, of shard 0.
    init(_ key: @escaping @Sendable (Int32) -> SeriesKey) {
        shard = 0
        self.key = key
        self.keys = { $0.map(key) }
    }

    /// The series of `shard` in `registry`.
    init(shard: Int, of registry: SeriesRegistry) {
        self.shard = Int32(shard)
        self.key = { registry.key(of: SeriesSlot(index: $0, shard: Int32(shard))) }
        self.keys = { registry.keys(of: $0, shard: shard) }
    }

    /// The tag the store may keep the series numbered `number` by (``SeriesTag``).
    func tag(of number: Int32) -> SeriesTag {
        SeriesTag(shard: shard, index: number)
    }

    /// One series' key (a query's series, a held reading's): no array on the way.
    func key(of number: Int32) -> SeriesKey {
        key(number)
    }

    /// The keys of `numbers`, in their order: one lookup in the registry for all of them.
    /// Each lookup takes the registry's lock, which ingest holds while it admits a batch:
    /// one per series made a 100,000-series flush wait about 250 ns a series (``pageSize``).
    func keys(of numbers: [Int32]) -> [SeriesKey] {
        keys(numbers)
    }

    /// Calls `body` with each of `count` series' position and key, in order, `number(i)`
    /// being the number of the series at `i`: named a page at a time (``keys(of:)``).
    func forEachKey(count: Int, number: (Int) -> Int32, _ body: (_ position: Int, _ key: SeriesKey) throws -> Void) rethrows {
        var start = 0
        while start < count {
            let positions = start..<min(start + Self.pageSize, count)
            for (position, key) in zip(positions, keys(of: positions.map(number))) { try body(position, key) }
            start = positions.upperBound
        }
    }

    /// How many series a flush or a query names at once.
    static let pageSize = 256
}
