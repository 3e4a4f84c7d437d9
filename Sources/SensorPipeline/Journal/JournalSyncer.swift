internal import Glibc
internal import Foundation
internal import Logging
internal import Synchronization

/// The `interval` fsync policy: a plain thread (fsync must not block the cooperative
/// pool) that syncs every shard's open segment once per interval, and once more when
/// stopped.
final class JournalSyncer: Sendable {
    private let ingresses: [ShardIngress]
    private let interval: Duration
    private let logger: Logger
    private let stopRequested = Atomic<Bool>(false)
    private let stopped = OneShotEvent()
    private let failing = Atomic<Bool>(false)

    init(ingresses: [ShardIngress], interval: Duration, logger: Logger) {
        self.ingresses = ingresses
        self.interval = interval
        self.logger = logger
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
        for ingress in ingresses {
            guard let descriptor = ingress.journalDescriptor() else { continue }
            defer { close(descriptor) }
            if fdatasync(descriptor) != 0 {
                if !failing.exchange(true, ordering: .relaxed) {
                    logger.error("cannot sync the journal to disk; acknowledged readings are safe from a crash but not from power loss", metadata: [
                        "error": "\(SystemError.text(errno))",
                    ])
                }
            } else if failing.exchange(false, ordering: .relaxed) {
                logger.notice("journal syncs to disk again")
            }
        }
    }
}
