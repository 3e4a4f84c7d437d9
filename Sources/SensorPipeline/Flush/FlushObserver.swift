/// Told after every flush the store committed, also one that had nothing new to write:
/// the lossless counterpart of the live feed, for what must see every closed window
/// (rules, forwarding), whether or not anyone is subscribed. It reads what it needs from
/// the store, where every bucket of every reading acknowledged before the flush now is.
///
/// Called on the flusher's sequence, so the next flush waits for it: an observer that is
/// slow delays flushes (and, through backpressure, ingest), never loses anything.
public protocol FlushObserver: Sendable {
    /// - Parameter drainedAt: the wall clock (µs since the epoch) when the flush took the
    ///   shards' buckets; every reading acknowledged before it is stored.
    func flushCommitted(drainedAt: Int64) async
}
