/// The writer's own name for a series, for the life of its process: the series' shard and
/// its number there, both small and dense (the pipeline's ``SeriesSlot``), never the name
/// of two series at once. A store may keep what it learns of a series by its tag, in
/// arrays, instead of by its device and metric names (``BucketGroup/tag``,
/// ``SeriesUpdate/tag``).
public struct SeriesTag: Sendable, Hashable {
    public var shard: Int32
    public var index: Int32

    public init(shard: Int32, index: Int32) {
        self.shard = shard
        self.index = index
    }
}
