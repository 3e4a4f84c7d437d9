/// What ``SensorStore/write(_:report:)`` committed.
public struct WriteOutcome: Sendable {
    /// The written buckets the caller asked to have reported, as stored after the merge,
    /// in batch order.
    public var written: [Bucket]
    /// The buckets kept in `set_aside_buckets` instead of stored.
    public var setAside: [SetAsideBucket]

    package init(written: [Bucket], setAside: [SetAsideBucket]) {
        self.written = written
        self.setAside = setAside
    }
}
