internal import Glibc
internal import Foundation
internal import Synchronization

/// The `interval` fsync policy: a plain thread (fsync must not block the cooperative
/// pool) that syncs every shard's open segment once per interval, and once more when
/// stopped. A failed sync is fatal (``JournalError/isFatal``): `onFailure` stops the
/// journal, and the syncer stops syncing.
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
            let (seconds, attoseconds) = interval.components
            let pause = Double(seconds) + Double(attoseconds) * 1e-18
            var slept = 0.0
            while !stopRequested.load(ordering: .acquiring) {
                // Short naps so stop() is answered quickly even with a long interval.
                Thread.sleep(forTimeInterval: min(0.05, pause))
                slept += min(0.05, pause)
                if slept >= pause {
                    slept = 0
                    syncAll()
                }
            }
            syncAll()
            stopped.signal()
        }
        thread.name = "sensorhub-journal-sync"
        thread.start()
    }

    /// Stops the thread after a last sync.
    func stop() async {
        stopRequested.store(true, ordering: .releasing)
        await stopped.wait()
    }

    private func syncAll() {
        guard !failed.load(ordering: .relaxed) else { return }
        for (shard, ingress) in ingresses.enumerated() {
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
