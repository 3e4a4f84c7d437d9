internal import SensorCore

/// A flush's bucket deltas of one series and resolution, cut into the chunks
/// (``ChunkLayout``) they fall in: what each store merges into one stored row at a time.
package enum ChunkRuns {
    /// The deltas at `positions` of `group` (one per window: repeats merged, ascending),
    /// as runs of one chunk each, ascending by chunk start.
    package static func split(_ group: BucketGroup, positions: [Int]) -> [(chunkStart: Int64, deltas: [ChunkUpdate.Delta])] {
        var runs: [(chunkStart: Int64, deltas: [ChunkUpdate.Delta])] = []
        var remaining = positions.count
        // Each bucket is copied once, straight into its run: a copy retains the sketch's
        // arrays, and the flush of a many-series burst copies hundreds of thousands.
        func add(_ windowStart: Int64, _ stats: BucketStats) {
            let chunkStart = ChunkLayout.chunkStart(of: windowStart, group.resolution)
            if runs.last?.chunkStart != chunkStart {
                // Sized once: a run holds at most a chunk's windows, and the deltas left.
                var deltas: [ChunkUpdate.Delta] = []
                deltas.reserveCapacity(Swift.min(remaining, Int(ChunkLayout.windows)))
                runs.append((chunkStart, deltas))
            }
            remaining -= 1
            let index = ChunkLayout.index(of: windowStart, inChunkAt: chunkStart, group.resolution)
            runs[runs.count - 1].deltas.append(ChunkUpdate.Delta(index: index, windowStart: windowStart, stats: stats))
        }
        // As the pipeline hands them over (ascending, unique), else merged and sorted.
        if zip(positions, positions.dropFirst()).allSatisfy({ group.windowStarts[$0] < group.windowStarts[$1] }) {
            for position in positions { add(group.windowStarts[position], group.stats[position]) }
        } else {
            var byWindow: [Int64: BucketStats] = [:]
            for position in positions { byWindow[group.windowStarts[position], default: BucketStats()].merge(group.stats[position]) }
            for (windowStart, stats) in byWindow.sorted(by: { $0.key < $1.key }) { add(windowStart, stats) }
        }
        return runs
    }

    /// The positions of `group` holding readings whose statistics can be stored; the
    /// others go to `unstorable` with why, before they could create anything.
    package static func storable(_ group: BucketGroup, unstorable: (Int, String) throws -> Void) rethrows -> [Int] {
        var positions: [Int] = []
        positions.reserveCapacity(group.stats.count)
        for position in group.stats.indices where group.stats[position].count > 0 {
            if group.stats[position].isStorable {
                positions.append(position)
            } else if let problem = group.stats[position].storageProblem {
                try unstorable(position, problem)
            }
        }
        return positions
    }
}
