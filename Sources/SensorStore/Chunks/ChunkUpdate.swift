package import SensorCore

/// Builds the new bytes of one chunk from its stored bytes and a flush's bucket deltas for
/// its windows: records of windows no delta touches are copied byte for byte, each delta
/// is merged into its stored bucket (the only records decoded, sketch included) or becomes
/// a new one. Pure: no I/O.
package enum ChunkUpdate {
    /// One bucket delta of the flush: its window's place in the chunk, and where its stats
    /// are in the array handed to ``apply(_:stats:to:chunkStart:resolution:output:sketchBytes:)``
    /// (by position: a bucket copied into each delta retained its sketch's storage, and a
    /// flush of a many-series burst has hundreds of thousands).
    package struct Delta {
        package var index: Int
        package var windowStart: Int64
        package var position: Int

        package init(index: Int, windowStart: Int64, position: Int) {
            self.index = index
            self.windowStart = windowStart
            self.position = position
        }
    }

    /// What became of one delta.
    package enum Result {
        /// Stored as it is: its window had no stored bucket.
        case added
        /// Merged into its window's stored bucket; the bucket as it now is.
        case merged(BucketStats)
        /// Not storable (its statistics, or merged with the stored ones, are not finite):
        /// the stored bucket is left as it was.
        case setAside(String)
    }

    /// Writes the chunk's new bytes to `output` (emptied first) and returns one result per
    /// delta, in the order of `deltas`, which must be sorted by index, one per index; each
    /// delta's stats are `stats[delta.position]`. `decimal`: whether records may take
    /// ``ChunkCodec/Form/decimal`` (see ``ChunkCodec/append(index:windowStart:stats:to:sketchBytes:decimal:)``).
    /// - Throws: ``ChunkCodec/Damage`` when the stored bytes do not decode.
    @inline(never) // One call per chunk: its own frame lets scripts/perf-stages.py charge the chunk work.
    package static func apply(
        _ deltas: [Delta], stats: [BucketStats], to stored: UnsafeRawBufferPointer?, chunkStart: Int64, resolution: Resolution,
        output: inout [UInt8], sketchBytes: inout [UInt8], decimal: Bool
    ) throws(ChunkCodec.Damage) -> [Result] {
        output.removeAll(keepingCapacity: true)
        output.append(ChunkCodec.version)
        var reader = try stored.flatMap { bytes throws(ChunkCodec.Damage) in
            bytes.isEmpty ? nil : try ChunkCodec.Reader(bytes, chunkStart: chunkStart, resolution: resolution)
        }
        var pending = try reader?.next()
        var results: [Result] = []
        results.reserveCapacity(deltas.count)
        for delta in deltas {
            // Stored buckets of earlier windows stay as they are.
            while let bucket = pending, bucket.index < delta.index {
                output.append(contentsOf: stored![bucket.record])
                pending = try reader?.next()
            }
            guard let bucket = pending, bucket.index == delta.index else {
                if let problem = stats[delta.position].storageProblem {
                    results.append(.setAside(problem))
                    continue
                }
                ChunkCodec.append(
                    index: delta.index, windowStart: delta.windowStart, stats: stats[delta.position], to: &output, sketchBytes: &sketchBytes, decimal: decimal)
                results.append(.added)
                continue
            }
            pending = try reader?.next()
            var merged = bucket.decoded
            merged.merge(stats[delta.position])
            if let problem = merged.storageProblem {
                results.append(.setAside("merged with the stored bucket, \(problem)"))
                output.append(contentsOf: stored![bucket.record])
                continue
            }
            ChunkCodec.append(index: delta.index, windowStart: delta.windowStart, stats: merged, to: &output, sketchBytes: &sketchBytes, decimal: decimal)
            results.append(.merged(merged))
        }
        while let bucket = pending {
            output.append(contentsOf: stored![bucket.record])
            pending = try reader?.next()
        }
        return results
    }
}

extension [UInt8] {
    /// A copy owning exactly these bytes: what a writer keeps of the chunk ``ChunkUpdate``
    /// wrote into its scratch buffer. Keeping the scratch itself would share it: the next
    /// chunk's `removeAll(keepingCapacity:)` would then allocate the largest capacity seen
    /// so far again, and the kept bytes would hold that capacity too.
    package var rightSizedCopy: [UInt8] { withUnsafeBufferPointer { Array($0) } }
}
