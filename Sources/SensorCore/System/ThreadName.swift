internal import Glibc

/// Names the calling thread, as `top -H`, `perf` and `/proc/PID/task/*/comm` show it.
///
/// Foundation's `Thread.name`, set before `start()`, never reached the system on Linux:
/// libmosquitto's loop, the journal syncer and the shutdown watchdog each showed the name
/// of the event loop that started them, and per-thread CPU figures could not tell them
/// apart. Linux keeps 15 bytes of a name.
public enum ThreadName {
    public static func set(_ name: StaticString) {
        precondition(name.utf8CodeUnitCount <= 15, "Linux keeps 15 bytes of a thread's name")
        guard let setName else { return }
        name.withUTF8Buffer { bytes in
            withUnsafeTemporaryAllocation(of: CChar.self, capacity: bytes.count + 1) { text in
                for (index, byte) in bytes.enumerated() { text[index] = CChar(bitPattern: byte) }
                text[bytes.count] = 0
                _ = setName(pthread_self(), text.baseAddress!)
            }
        }
    }

    /// glibc's `pthread_setname_np`, which Swift's Glibc module does not import (a GNU
    /// extension); nil should the C library lack it, and threads then keep their names.
    private static let setName: (@convention(c) (pthread_t, UnsafePointer<CChar>) -> Int32)? = {
        dlsym(nil, "pthread_setname_np").map {
            unsafeBitCast($0, to: (@convention(c) (pthread_t, UnsafePointer<CChar>) -> Int32).self)
        }
    }()
}
