package import SensorCore

/// A flush's bucket deltas of one series and resolution, cut into the chunks
/// (``ChunkLayout``) they fall in: what each store merges into one stored row at a time.
package enum ChunkRuns {
    /// The deltas at `positions` of `group` (one per window: repeats merged, ascending),
    /// as runs of one chunk each, ascending by chunk start, and the stats they point into:
    /// the group's own (shared, not copied), or its repeated windows merged.
    package static func split(_ group: BucketGroup, positions: [Int]) -> (stats: [BucketStats], runs: [(chunkStart: Int64, deltas: [ChunkUpdate.Delta])]) {
        var runs: [(chunkStart: Int64, deltas: [ChunkUpdate.Delta])] = []
        var remaining = positions.count
        func add(_ windowStart: Int64, _ position: Int) {
            let chunkStart = ChunkLayout.chunkStart(of: windowStart, group.resolution)
            if runs.last?.chunkStart != chunkStart {
                // Sized once: a run holds at most a chunk's windows, and the deltas left.
                var deltas: [ChunkUpdate.Delta] = []
                deltas.reserveCapacity(Swift.min(remaining, Int(ChunkLayout.windows)))
                runs.append((chunkStart, deltas))
            }
            remaining -= 1
            let index = ChunkLayout.index(of: windowStart, inChunkAt: chunkStart, group.resolution)
            runs[runs.count - 1].deltas.append(ChunkUpdate.Delta(index: index, windowStart: windowStart, position: position))
        }
        // As the pipeline hands them over (ascending, unique), else merged and sorted.
        if zip(positions, positions.dropFirst()).allSatisfy({ group.windowStarts[$0] < group.windowStarts[$1] }) {
            for position in positions { add(group.windowStarts[position], position) }
            return (group.stats, runs)
        }
        var byWindow: [Int64: BucketStats] = [:]
        for position in positions { byWindow[group.windowStarts[position], default: BucketStats()].merge(group.stats[position]) }
        let merged = byWindow.sorted { $0.key < $1.key }
        for (position, window) in merged.enumerated() { add(window.key, position) }
        return (merged.map(\.value), runs)
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
