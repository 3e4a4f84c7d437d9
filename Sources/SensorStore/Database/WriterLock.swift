#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// An exclusive `flock` on `<database>-writer.lock`, held by the read-write store for its
/// lifetime: a second read-write open (another `sensorhub serve`, in this process or any
/// other) is refused, so the store's in-memory caches of series ids and open buckets can
/// trust that nobody else changes the file. Readers take no lock. The kernel drops the
/// lock when the process dies, so a crash never leaves the database locked.
final class WriterLock: Sendable {
    let path: String
    /// The locked file descriptor, -1 once released.
    private let descriptor: Mutex<Int32>

    /// - Throws: a message naming the lock file and what to do.
    init(databasePath: String) throws(WriterLockError) {
        path = databasePath + "-writer.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw WriterLockError(reason: "cannot create the lock file \(path) (\(String(cString: strerror(errno)))); check that the directory exists and is writable")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let busy = errno == EWOULDBLOCK
            let cause = String(cString: strerror(errno))
            _ = close(fd)
            throw WriterLockError(reason: busy
                ? "another sensorhub process is writing this database (it holds \(path)); stop it, or open the file read-only"
                : "cannot lock \(path) (\(cause))")
        }
        descriptor = Mutex(fd)
    }

    /// Releases the lock; later calls do nothing. Unlocked explicitly before the close: a
    /// child this process is forking right now holds a copy of the descriptor until its
    /// exec, and closing ours alone would leave the lock held through that copy (a reopen in
    /// the same instant was refused as "another sensorhub process", seen in the test suite,
    /// which spawns brokers and daemons while stores close and reopen).
    func release() {
        descriptor.withLock { fd in
            if fd >= 0 {
                _ = flock(fd, LOCK_UN)
                _ = close(fd)
            }
            fd = -1
        }
    }

    deinit {
        release()
    }
}

struct WriterLockError: Error {
    let reason: String
}
