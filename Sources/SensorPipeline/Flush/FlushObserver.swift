/// Told after every flush the store committed, also one that had nothing new to write:
/// the lossless counterpart of the live feed, for what must see every closed window
/// (rules, forwarding), whether or not anyone is subscribed. It reads what it needs from
/// the store, where every bucket of every reading acknowledged before the flush now is.
///
/// Called on the flusher's sequence, so the next flush waits for it: an observer that is
/// slow delays flushes (and, through backpressure, ingest), never loses anything.
public protocol FlushObserver: Sendable {
    /// - Parameter completeBefore: a wall-clock time (µs since the epoch) before which
    ///   every acknowledged reading is stored: when the flush took the shards' buckets, or
    ///   earlier while a shard still had readings queued that it had not applied (a
    ///   backlog after the store could not be written).
    func flushCommitted(completeBefore: Int64) async
}
