package import SensorCore

/// A flush's bucket deltas of one series and resolution, cut into the chunks
/// (``ChunkLayout``) they fall in: what each store merges into one stored row at a time.
package enum ChunkRuns {
    /// The deltas at `positions` of `group` (one per window: repeats merged, ascending),
    /// as runs of one chunk each, ascending by chunk start.
    package static func split(_ group: BucketGroup, positions: [Int]) -> [(chunkStart: Int64, deltas: [ChunkUpdate.Delta])] {
        // As the pipeline hands them over (ascending, unique), else merged and sorted.
        var deltas: [(windowStart: Int64, stats: BucketStats)]
        if zip(positions, positions.dropFirst()).allSatisfy({ group.windowStarts[$0] < group.windowStarts[$1] }) {
            deltas = positions.map { (group.windowStarts[$0], group.stats[$0]) }
        } else {
            var byWindow: [Int64: BucketStats] = [:]
            for position in positions { byWindow[group.windowStarts[position], default: BucketStats()].merge(group.stats[position]) }
            deltas = byWindow.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        }
        var runs: [(chunkStart: Int64, deltas: [ChunkUpdate.Delta])] = []
        var runStart = 0
        while runStart < deltas.count {
            let chunkStart = ChunkLayout.chunkStart(of: deltas[runStart].windowStart, group.resolution)
            var runEnd = runStart + 1
            while runEnd < deltas.count, ChunkLayout.chunkStart(of: deltas[runEnd].windowStart, group.resolution) == chunkStart {
                runEnd += 1
            }
            runs.append((chunkStart, deltas[runStart..<runEnd].map {
                ChunkUpdate.Delta(index: ChunkLayout.index(of: $0.windowStart, inChunkAt: chunkStart, group.resolution), windowStart: $0.windowStart, stats: $0.stats)
            }))
            runStart = runEnd
        }
        return runs
    }

    /// The positions of `group` holding readings whose statistics can be stored; the
    /// others go to `unstorable` with why, before they could create anything.
    package static func storable(_ group: BucketGroup, unstorable: (Int, String) throws -> Void) rethrows -> [Int] {
        var positions: [Int] = []
        positions.reserveCapacity(group.stats.count)
        for position in group.stats.indices where group.stats[position].count > 0 {
            if let problem = group.stats[position].storageProblem {
                try unstorable(position, problem)
            } else {
                positions.append(position)
            }
        }
        return positions
    }
}
