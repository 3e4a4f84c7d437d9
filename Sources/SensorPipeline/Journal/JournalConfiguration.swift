internal import Glibc

/// Where and how the ingest journal is written.
public struct JournalConfiguration: Sendable {
    /// When appended records are forced to the disk with `fdatasync`.
    ///
    /// Every record is written with write(2) before the reading is acknowledged, so a
    /// process crash (kill -9, OOM, panic) loses nothing under any policy: the data is in
    /// the kernel's page cache. The policy only matters when the machine itself loses
    /// power or the kernel crashes:
    /// - `never`: the kernel writes back when it likes (typically within 30 s); that much
    ///   acknowledged data can be lost on power loss.
    /// - `interval`: a background thread syncs every interval, and a flush syncs before
    ///   it stores seq windows; at most about one interval of acknowledged data can be
    ///   lost on power loss. The default (1 s).
    /// - `always`: every append is synced before it is acknowledged; nothing acknowledged
    ///   is lost even on power loss, at the price of one disk flush per batch.
    public enum SyncPolicy: Sendable, Equatable {
        case never
        case interval(Duration)
        case always
    }

    /// Directory holding one `shard-<i>` folder of segment files per shard.
    public var directory: String
    public var sync: SyncPolicy
    /// A segment is closed and a new one begun once it holds this many bytes.
    public var segmentBytes: Int64
    /// Test and benchmark switch: false skips the journal entirely, so an acknowledged
    /// reading is only in memory until its flush. Never for production.
    public var enabled: Bool

    /// Creates the directory if needed and checks it can be written, so a bad path fails
    /// the start with a clear message instead of the first acknowledgement.
    public func prepareDirectory() throws(JournalError) {
        guard enabled else { return }
        try SegmentFiles.makeDirectory(directory)
        guard access(directory, W_OK | X_OK) == 0 else {
            throw JournalError(operation: "write into", path: directory, reason: SystemError.text(errno))
        }
    }

    public init(directory: String, sync: SyncPolicy = .interval(.seconds(1)), segmentBytes: Int64 = 64 << 20, enabled: Bool = true) {
        self.directory = directory
        self.sync = sync
        self.segmentBytes = max(1 << 16, segmentBytes)
        self.enabled = enabled
    }
}
