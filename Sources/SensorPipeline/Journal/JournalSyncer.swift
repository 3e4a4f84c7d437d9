internal import Glibc
internal import Foundation
internal import SensorCore
internal import Synchronization

/// The `interval` fsync policy: a plain thread (fsync must not block the cooperative
/// pool) that syncs every shard's open segment once per interval, and once more when
/// stopped; and a sync on demand before a flush commits seq windows (``startSync(shards:)``).
/// A failed sync is fatal (``JournalError/isFatal``): `onFailure` stops the journal, and
/// the syncer stops syncing.
final class JournalSyncer: Sendable {
    private let ingresses: [ShardIngress]
    private let interval: Duration
    private let onFailure: @Sendable (JournalError) -> Void
    private let stopRequested = Atomic<Bool>(false)
    private let stopped = OneShotEvent()
    private let failed = Atomic<Bool>(false)

    init(ingresses: [ShardIngress], interval: Duration, onFailure: @escaping @Sendable (JournalError) -> Void) {
        self.ingresses = ingresses
        self.interval = interval
        self.onFailure = onFailure
    }

    func start() {
        let thread = Thread { [self] in
            ThreadName.set("sensorhub-sync")
            let (seconds, attoseconds) = interval.components
            let pause = Double(seconds) + Double(attoseconds) * 1e-18
            var slept = 0.0
            while !stopRequested.load(ordering: .acquiring) {
                // Short naps so stop() is answered quickly even with a long interval.
                Thread.sleep(forTimeInterval: min(0.05, pause))
                slept += min(0.05, pause)
                if slept >= pause {
                    slept = 0
                    syncAll(ingresses.indices)
                }
            }
            syncAll(ingresses.indices)
            stopped.signal()
        }
        thread.start()
    }

    /// Stops the thread after a last sync.
    func stop() async {
        stopRequested.store(true, ordering: .releasing)
        await stopped.wait()
    }

    /// Starts a sync of the open segments of `shards` on a thread outside the cooperative
    /// pool; the flush's store waits for it (`wait()`) before it commits
    /// (``FlushBatch/seqWindowsDurable``). A failed sync has stopped the journal by then.
    ///
    /// A flush needs it when it stores seq windows: they are taken after the flush's drain
    /// and may count records appended since, which would otherwise reach the disk only
    /// with the next interval. Synced before the commit, every seq a stored window counts
    /// is in a record a power loss cannot take, so a message sent again after one is never
    /// taken for a duplicate of a reading that is gone. (Segments closed before are
    /// synced as they close.)
    ///
    /// A group, not a work item: a retried write waits again, and a work item may be
    /// waited on only once.
    func startSync(shards: [Int]) -> DispatchGroup {
        let sync = DispatchGroup()
        DispatchQueue.global().async(group: sync) { [self] in syncAll(shards) }
        return sync
    }

    private func syncAll(_ shards: some Sequence<Int>) {
        guard !failed.load(ordering: .relaxed) else { return }
        for shard in shards {
            let ingress = ingresses[shard]
            guard let descriptor = ingress.journalDescriptor() else { continue }
            defer { close(descriptor) }
            if fdatasync(descriptor) != 0 {
                failed.store(true, ordering: .relaxed)
                onFailure(JournalError(operation: "sync", path: "the journal of shard \(shard)", reason: SystemError.text(errno), isFatal: true))
                return
            }
        }
    }
}

