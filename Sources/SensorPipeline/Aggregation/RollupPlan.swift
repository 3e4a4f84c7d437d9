internal import SensorCore

/// Which resolutions take every reading and which are built from a finer one at flush.
///
/// Windows are aligned to the epoch, so when a finer resolution divides a coarser one
/// (10 s and 1 m), each fine window lies inside exactly one coarse window and the coarse
/// bucket is the merge of the fine buckets in it (``BucketStats/merge(_:)`` is exact for
/// counts, extremes, first/last and the sketch, and Chan's formula for the moments). A
/// reading is then counted once instead of once per resolution: with 10 s, 1 m and 1 h,
/// a third of the per-reading work. A resolution no finer one divides takes every reading.
struct RollupPlan: Sendable {
    let resolutions: [Resolution]
    /// Indices (into ``resolutions``) of the resolutions every reading is added to.
    let direct: [Int]
    /// For each resolution, the resolutions built from it, finest first.
    let children: [[Int]]
    /// Each built resolution with the one it is built from, in an order where a source is
    /// always complete before it is used.
    let rollups: [(target: Int, source: Int)]
    /// For each resolution, how many buckets a bucket of it ends up in: itself and those
    /// built from it, directly or in turn (3 for 10 s of `10s,1m,1h`). What a sketch bin
    /// added to it is counted as in the pending bytes.
    let reach: [Int]
    /// For each resolution, itself and every resolution it is built from, in turn: what a
    /// query reading it needs built.
    let sources: [Set<Int>]

    init(resolutions: [Resolution]) {
        self.resolutions = resolutions
        var direct: [Int] = []
        var children = Array(repeating: [Int](), count: resolutions.count)
        var rollups: [(target: Int, source: Int)] = []
        let ascending = resolutions.indices.sorted { resolutions[$0] < resolutions[$1] }
        for (rank, index) in ascending.enumerated() {
            // The coarsest finer resolution that divides this one: the fewest merges.
            let source = ascending[..<rank].last { finer in
                resolutions[finer] < resolutions[index] && resolutions[finer].divides(resolutions[index])
            }
            if let source {
                children[source].append(index)
                rollups.append((index, source))
            } else {
                direct.append(index)
            }
        }
        self.direct = direct
        self.children = children
        self.rollups = rollups
        var reach = Array(repeating: 1, count: resolutions.count)
        // Coarsest first: a resolution's children are complete when it is summed.
        for index in ascending.reversed() {
            reach[index] += children[index].reduce(0) { $0 + reach[$1] }
        }
        self.reach = reach
        self.sources = resolutions.indices.map { index in
            var sources: Set<Int> = [index]
            var current = index
            while let source = rollups.first(where: { $0.target == current })?.source {
                sources.insert(source)
                current = source
            }
            return sources
        }
    }
}
