public import Foundation
import Synchronization

/// Spawns helper programs (the broker) with default signal handling and an empty signal
/// mask. Foundation's `Process` passes on the test runner's blocked signals, and a
/// mosquitto that has SIGTERM blocked can neither be stopped cleanly nor save its state.
public enum ChildProcess {
    /// Starts `path` with stdin from /dev/null and stdout/stderr on the given descriptors
    /// (default /dev/null), in `environment` (default this process's).
    public static func spawn(
        _ path: String, _ arguments: [String], stdout: Int32? = nil, stderr: Int32? = nil,
        environment: [String: String]? = nil
    ) throws -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        // dup2 clears close-on-exec on the child's 1 and 2; the originals close at exec.
        for (target, source) in [(Int32(1), stdout), (Int32(2), stderr)] {
            if let source {
                posix_spawn_file_actions_adddup2(&actions, source, target)
            } else {
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_WRONLY, 0)
            }
        }

        // Nothing else of the test runner's: a descriptor inherited by a long-lived broker
        // is held open as long as the broker runs. Foundation's `Process` learns that a
        // daemon exited from EOF on a socket only that daemon should hold; a broker spawned
        // in the same instant inherited it, the daemon's exit went unseen, and a test
        // waiting for it hung the suite (both of a 2-core machine's concurrency threads
        // blocked: that wait, and a store close waiting for a read to finish).
        guard closeFrom(&actions, 3) == 0 else { throw ChildProcessError.spawnFailed(path, errno) }

        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { for pointer in argv + (envp ?? []) { free(pointer) } }
        var pid: pid_t = 0
        let result = envp.map { posix_spawn(&pid, path, &actions, &attributes, argv, $0) }
            ?? posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        guard result == 0 else { throw ChildProcessError.spawnFailed(path, result) }
        reaped.withLock { _ = $0.remove(pid) }
        return pid
    }

    /// Children this type reaped: their pids may belong to other processes by now, so
    /// they are neither asked about (`kill(pid, 0)`) nor signalled again.
    private static let reaped = Mutex<Set<pid_t>>([])

    /// `waitpid` that remembers a child it reaped.
    private static func wait(_ pid: pid_t, _ options: Int32) -> pid_t {
        var status: Int32 = 0
        let result = waitpid(pid, &status, options)
        if result == pid { reaped.withLock { _ = $0.insert(pid) } }
        return result
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), which Swift's Glibc module
    /// does not import: the action closing every descriptor from the given one up.
    private static let closeFrom: @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32 = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else {
            fatalError("posix_spawn_file_actions_addclosefrom_np is missing: glibc 2.34 or later is needed")
        }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    public static func isRunning(_ pid: pid_t) -> Bool {
        if reaped.withLock({ $0.contains(pid) }) { return false }
        let result = wait(pid, WNOHANG)
        // ECHILD: reaped by another waiter (Foundation's child handling); then it runs
        // while it can still be signalled.
        if result < 0, errno == ECHILD { return Foundation.kill(pid, 0) == 0 }
        return result == 0
    }

    /// SIGTERM, then SIGKILL once `grace` passed; reaps the child, polling from a task (a
    /// child saving its state on SIGTERM may take seconds on a loaded machine: a blocking
    /// wait would hold a thread of the concurrency pool every test shares). Nothing for a
    /// child already reaped here.
    public static func stop(_ pid: pid_t, grace: Duration) async {
        if reaped.withLock({ $0.contains(pid) }) { return }
        Foundation.kill(pid, SIGTERM)
        let deadline = ContinuousClock.now + grace
        while wait(pid, WNOHANG) == 0 {
            if ContinuousClock.now > deadline {
                Foundation.kill(pid, SIGKILL)
                _ = wait(pid, 0)
                return
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// SIGKILL, and reaps the child (at once). Nothing for a child already reaped here.
    public static func kill(_ pid: pid_t) {
        if reaped.withLock({ $0.contains(pid) }) { return }
        Foundation.kill(pid, SIGKILL)
        _ = wait(pid, 0)
    }
}

public enum ChildProcessError: Error {
    case spawnFailed(String, Int32)
}
