internal import SensorCore

/// The key of a shard's series by its number (``SeriesSlot/index``): the registry's, which
/// holds every series' key once.
///
/// Pending buckets keep a series' number, 4 bytes, where its key took 32 (two strings)
/// in every pending series, twice while a flush writes one generation and the shard fills
/// the next: 3.2 MB for 100,000 series. A key is looked up when a flush or a query reads
/// the series, never per reading.
struct SeriesNames: Sendable {
    private let key: @Sendable (Int32) -> SeriesKey

    init(_ key: @escaping @Sendable (Int32) -> SeriesKey) {
        self.key = key
    }

    /// The series of `shard` in `registry`.
    init(shard: Int, of registry: SeriesRegistry) {
        self.init { registry.key(of: SeriesSlot(index: $0, shard: Int32(shard))) }
    }

    func key(of number: Int32) -> SeriesKey {
        key(number)
    }
}
