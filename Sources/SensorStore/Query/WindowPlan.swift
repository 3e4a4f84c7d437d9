package import SensorCore

/// How one ``AggregateQuery`` is answered: which stored resolution to read, which bucket
/// starts to read, and which windows may be returned. Pure arithmetic, no I/O.
///
/// Windows are `[k·step, k·step + window)`; window k may be returned iff it lies wholly
/// inside `[from, to)`, i.e. `firstWindow ≤ k ≤ lastWindow`. Buckets are read from the
/// coarsest stored resolution r dividing both window and step, so every bucket lies
/// wholly inside or wholly outside any window, and only buckets with a start in
/// `[bucketLow, bucketHigh)` can lie inside a returnable window.
package struct WindowPlan: Sendable, Equatable {
    /// Stored resolution whose buckets are read.
    package let resolution: Resolution
    /// Window length, step and chunk length (gcd of window and step) in µs.
    package let window: Int64
    package let step: Int64
    package let chunk: Int64
    /// Smallest and largest returnable window index k.
    package let firstWindow: Int64
    package let lastWindow: Int64
    /// Bucket starts to read, µs, half-open.
    package let bucketLow: Int64
    package let bucketHigh: Int64

    /// Unbounded `from`/`to` are clamped to ±2^62 µs (±146,000 years), which keeps every
    /// product and sum below in range of Int64.
    package static let timeBound: Int64 = 1 << 62

    /// No window can be returned (the range is shorter than one window).
    package var isEmpty: Bool { firstWindow > lastWindow }

    /// - Throws: ``StoreError`` naming the stored resolutions when window or step is not a
    ///   multiple of one of them, or when `from` is not before `to`.
    package init(query: AggregateQuery, stored: [Resolution]) throws(StoreError) {
        let stored = stored.sorted()
        guard !stored.isEmpty else { throw .noStoredResolutions }
        let window = query.window
        let step = query.effectiveStep
        guard stored.contains(where: { $0.divides(window) }) else {
            throw .windowNotMultiple(window: window, stored: stored)
        }
        guard stored.contains(where: { $0.divides(step) }) else {
            throw .stepNotMultiple(step: step, stored: stored)
        }
        guard let resolution = stored.last(where: { $0.divides(window) && $0.divides(step) }) else {
            throw .noCommonResolution(window: window, step: step, stored: stored)
        }
        if let from = query.from, let to = query.to, from >= to {
            throw .emptyRange(from: from, to: to)
        }
        let bound = Self.timeBound
        let from = Swift.min(Swift.max(query.from ?? -bound, -bound), bound)
        let to = Swift.min(Swift.max(query.to ?? bound, -bound), bound)

        self.resolution = resolution
        self.window = window.microseconds
        self.step = step.microseconds
        self.chunk = Self.gcd(self.window, self.step)
        self.firstWindow = Self.ceilDiv(from, self.step)
        self.lastWindow = Self.floorDiv(to - self.window, self.step)
        self.bucketLow = firstWindow * self.step
        self.bucketHigh = lastWindow * self.step + self.window
    }

    /// How many windows may be returned per series.
    package var returnableWindows: Int64 { Swift.max(0, lastWindow - firstWindow + 1) }

    /// Returnable windows that overlap `[low, high)` µs (data there can only fall in them).
    package func windows(overlapping low: Int64, _ high: Int64) -> Int64 {
        // Window k overlaps when k·step < high and k·step + window > low.
        let first = Swift.max(firstWindow, Self.floorDiv(low - window, step) + 1)
        let last = Swift.min(lastWindow, Self.ceilDiv(high, step) - 1)
        return Swift.max(0, last - first + 1)
    }

    /// ⌊a / b⌋ for b > 0, also for negative a.
    @inline(__always)
    package static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b < 0) ? q - 1 : q
    }

    /// ⌈a / b⌉ for b > 0, also for negative a.
    @inline(__always)
    package static func ceilDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b > 0) ? q + 1 : q
    }

    package static func gcd(_ a: Int64, _ b: Int64) -> Int64 {
        var (a, b) = (a, b)
        while b != 0 { (a, b) = (b, a % b) }
        return a
    }
}
