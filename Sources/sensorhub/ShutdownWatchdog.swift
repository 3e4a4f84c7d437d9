import Foundation
import Logging
import SensorCore
import ServiceLifecycle

/// Bounds a graceful shutdown: once it begins, a plain thread (immune to a starved
/// cooperative pool) waits for the deadline and, if the process is still there, exits 1.
/// Nothing acknowledged is lost by that: what was not flushed is in the journal and is
/// replayed on the next start.
struct ShutdownWatchdog: Service {
    let deadline: Duration
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        let (seconds, attoseconds) = deadline.components
        let pause = Double(seconds) + Double(attoseconds) * 1e-18
        let logger = logger
        let thread = Thread {
            ThreadName.set("sensorhub-watch")
            Thread.sleep(forTimeInterval: pause)
            logger.critical("shutdown deadline exceeded; exiting without the last flush, the journal keeps every acknowledged reading for the next start", metadata: ["deadline": "\(pause)s"])
            exit(1)
        }
        thread.start()
    }
}
