import Foundation

/// Spawns helper programs (the broker) with default signal handling and an empty signal
/// mask. Foundation's `Process` passes on the test runner's blocked signals, and a
/// mosquitto that has SIGTERM blocked can neither be stopped cleanly nor save its state.
enum ChildProcess {
    static func spawn(_ path: String, _ arguments: [String]) throws -> pid_t {
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
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)

        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        guard result == 0 else { throw ChildProcessError.spawnFailed(path, result) }
        return pid
    }

    static func isRunning(_ pid: pid_t) -> Bool {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == 0
    }

    /// SIGTERM, then SIGKILL once `grace` seconds passed; reaps the child.
    static func terminate(_ pid: pid_t, grace: Double) {
        Foundation.kill(pid, grace > 0 ? SIGTERM : SIGKILL)
        let deadline = Date().addingTimeInterval(grace)
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            if Date() > deadline {
                Foundation.kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                return
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
    }
}

enum ChildProcessError: Error {
    case spawnFailed(String, Int32)
}
