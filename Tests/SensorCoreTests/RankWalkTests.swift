import Testing
@testable import SensorCore

/// The key of each rank, one rank at a time: the first bin whose running count passes it.
private func naiveKey(of rank: UInt64, bins: [(key: Int32, count: UInt64)], lastKey: Int32) -> Int32 {
    var seen: UInt64 = 0
    for bin in bins {
        seen += bin.count
        if seen > rank { return bin.key }
    }
    return lastKey
}

@Suite struct RankWalkTests {
    /// Bins with gaps and empty counts; ranks in every order, repeated, and past the last
    /// value: the walk finds each rank's key as a walk for that rank alone does.
    @Test(arguments: [7, 8, 9] as [UInt64])
    func eachRankGetsTheKeyAWalkForItAloneFinds(seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        for _ in 0..<200 {
            var key = Int32.random(in: -50...50, using: &random)
            let bins: [(key: Int32, count: UInt64)] = (0..<Int.random(in: 1...30, using: &random)).map { _ in
                key += Int32.random(in: 1...4, using: &random)
                return (key, UInt64.random(in: 0...5, using: &random))
            }
            let total = bins.reduce(0) { $0 + $1.count }
            let lastKey = bins.last!.key
            let ranks = SIMD4<UInt64>((0..<4).map { _ in UInt64.random(in: 0...(total + 2), using: &random) })
            let want = SIMD4<Int32>((0..<4).map { naiveKey(of: ranks[$0], bins: bins, lastKey: lastKey) })
            #expect(SketchRanks.keys(atRanks: ranks, bins: bins, lastKey: lastKey) == want, "ranks \(ranks) of \(bins)")

            // The same bins dense, from the first key: every key in between holds 0.
            let offset = bins[0].key
            var counts = [UInt64](repeating: 0, count: Int(lastKey - offset) + 1)
            for bin in bins { counts[Int(bin.key - offset)] = bin.count }
            #expect(SketchRanks.keys(atRanks: ranks, offset: offset, counts: counts) == want, "dense, ranks \(ranks)")
        }
    }
}
