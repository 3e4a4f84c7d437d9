/// Finds the keys holding four 0-based ranks (in any order) in one walk over bins in
/// ascending key order: each rank's key is the first bin whose running count passes it.
struct RankWalk {
    /// The key found for each rank. 64-bit lanes, as the ranks': a mask from comparing the
    /// ranks selects lanes of a vector of the same lane width.
    private var found: SIMD4<Int64>
    /// The ranks not reached yet; reached ones are `.max`.
    private var pending: SIMD4<UInt64>
    /// The smallest of `pending`, so that a bin that reaches none costs one comparison.
    private var next: UInt64
    private var seen: UInt64 = 0

    /// A walk whose ranks past the last value give `lastKey`.
    init(ranks: SIMD4<UInt64>, lastKey: Int32) {
        found = SIMD4(repeating: Int64(lastKey))
        pending = ranks
        next = ranks.min()
    }

    /// The keys found, by rank.
    var keys: SIMD4<Int32> { SIMD4(truncatingIfNeeded: found) }

    /// Counts the next bin; true once every rank is reached (the walk can stop).
    @inline(__always)
    mutating func take(key: Int32, count: UInt64) -> Bool {
        seen += count
        guard seen > next else { return false }
        reach(key: key)
        return next == .max
    }

    // Lane-wise masks, not a loop over the lanes: writing one lane of a vector through a
    // variable index goes through memory, and reading the vector back then waits for that
    // store (it was half the time of a stored bucket's percentiles).
    @inline(__always)
    private mutating func reach(key: Int32) {
        let reached = pending .< SIMD4(repeating: seen)
        found.replace(with: Int64(key), where: reached)
        pending.replace(with: .max, where: reached)
        next = pending.min()
    }
}
