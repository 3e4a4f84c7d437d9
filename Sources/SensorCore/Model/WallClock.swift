#if canImport(Glibc)
internal import Glibc
#endif

/// The current wall-clock time in the unit of ``Reading/timestamp``: what a reading without
/// `ts` is stamped with on arrival, on either transport.
public enum WallClock {
    /// Microseconds since the Unix epoch (CLOCK_REALTIME), truncated.
    public static func microseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1_000
    }
}
