package import SensorCore

/// How buckets are packed into rows: one row ("chunk") holds the buckets of one series at
/// one resolution in ``windows`` consecutive windows, epoch-aligned (`[k·span, (k+1)·span)`
/// with `span = windows × resolution`).
///
/// Why: a row per bucket made every flush one SQLite statement per bucket (284,000 for
/// the benchmark's 400,000 readings), and a query one row per bucket. A chunk turns that
/// into one statement per series and resolution touched, and a day of 10 s buckets of
/// one series into 270 rows.
package enum ChunkLayout {
    /// Windows one chunk covers: 5 min 20 s of 10 s buckets, 32 min of 1 m, 32 h of 1 h.
    package static let windows: Int64 = 32

    /// The time one chunk of `resolution` covers, µs.
    @inline(__always)
    package static func span(_ resolution: Resolution) -> Int64 { resolution.microseconds * windows }

    /// Start of the chunk holding the window that starts at `windowStart`.
    @inline(__always)
    package static func chunkStart(of windowStart: Int64, _ resolution: Resolution) -> Int64 {
        WindowPlan.floorDiv(windowStart, span(resolution)) * span(resolution)
    }

    /// Place of the window starting at `windowStart` inside its chunk, 0..<``windows``.
    @inline(__always)
    package static func index(of windowStart: Int64, inChunkAt chunkStart: Int64, _ resolution: Resolution) -> Int {
        Int((windowStart - chunkStart) / resolution.microseconds)
    }
}
