/// What ``SensorStore/write(_:report:)`` committed.
public struct WriteOutcome: Sendable {
    /// The written buckets the caller asked to have reported, as stored after the merge,
    /// in batch order.
    public var written: [Bucket]
    /// The buckets kept in `set_aside_buckets` instead of stored.
    public var setAside: [SetAsideBucket]
    /// Readings of ``FlushBatch/sequenced`` the store did not count: their seq was already
    /// counted (by another daemon, or before a restart).
    public var duplicates: Int

    package init(written: [Bucket], setAside: [SetAsideBucket], duplicates: Int = 0) {
        self.written = written
        self.setAside = setAside
        self.duplicates = duplicates
    }
}
