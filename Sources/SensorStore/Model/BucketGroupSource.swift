/// Bucket deltas that are built only as a store walks them, one group at a time: a flush
/// of many series then never holds the stats of all of them at once (``FlushBatch``).
///
/// Walking a source again gives the same groups, so a batch whose write failed is
/// written again from the same source.
public protocol BucketGroupSource: Sendable {
    /// Buckets in all groups.
    var bucketCount: Int { get }
    /// Builds each group and calls `body` with it.
    func forEachGroup(_ body: (BucketGroup) throws -> Void) rethrows
}
