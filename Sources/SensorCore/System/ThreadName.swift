internal import Glibc

/// Names the calling thread, as `top -H`, `perf` and `/proc/PID/task/*/comm` show it.
///
/// Foundation's `Thread.name`, set before `start()`, never reached the system on Linux:
/// libmosquitto's loop, the journal syncer and the shutdown watchdog each showed the name
/// of the event loop that started them, and per-thread CPU figures could not tell them
/// apart. Linux keeps 15 bytes of a name.
public enum ThreadName {
    public static func set(_ name: String) {
        precondition(name.utf8.count <= 15, "Linux keeps 15 bytes of a thread's name")
        guard let setName else { return }
        _ = name.withCString { setName(pthread_self(), $0) }
    }

    /// glibc's `pthread_setname_np`, which Swift's Glibc module does not import (a GNU
    /// extension); nil should the C library lack it, and threads then keep their names.
    private static let setName: (@convention(c) (pthread_t, UnsafePointer<CChar>) -> Int32)? = {
        dlsym(nil, "pthread_setname_np").map {
            unsafeBitCast($0, to: (@convention(c) (pthread_t, UnsafePointer<CChar>) -> Int32).self)
        }
    }()
}
