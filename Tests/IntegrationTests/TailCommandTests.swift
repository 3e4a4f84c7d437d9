#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import Testing
import TestProcesses

/// `sensorhub tail` against a real daemon: live rows of the chosen device only, one JSON
/// row per line into a pipe, a reconnect across a daemon crash and restart on the same
/// port, and exit status 0 on Ctrl-C (CONTRACT.md §3).
@Suite(.serialized) struct TailCommandTests {
    @Test func tailPrintsLiveRowsOfItsDeviceAndFollowsADaemonRestart() async throws {
        let first = try await Daemon(name: "tail-1")
        var second: Daemon?
        defer {
            second?.cleanUp()
            first.cleanUp()
        }
        let tail = try TailProcess(["tail", "--server", first.baseURL.absoluteString, "--format", "json", "--device", "tail-x"])
        defer { tail.cleanUp() }

        // The stream is live only: wait until tail demonstrably follows before the real batch.
        try await waitUntilFollowing(tail, daemon: first, metric: "warmup-1")
        let window1 = currentWindow()
        let batch1 = try await first.post("""
            [{"device":"tail-x","metric":"temp","value":1.5,"ts":\(window1 + 1)},
             {"device":"tail-y","metric":"temp","value":100,"ts":\(window1 + 1)},
             {"device":"tail-x","metric":"temp","value":2.25,"ts":\(window1 + 2)},
             {"device":"tail-x","metric":"temp","value":4.0,"ts":\(window1 + 3)}]
            """, contentType: "application/json")
        #expect(batch1.status == 202, "first batch: \(batch1.status) \(batch1.text)")
        // 1.5 + 2.25 + 4.0, all exact in binary.
        try await tail.waitForRow(device: "tail-x", metric: "temp", window: window1, count: 3, sum: 7.75)

        // A crash: no shutdown, the connection just drops. Then the same port and database.
        try await first.kill9()
        let restarted = try await Daemon(name: "tail-2", arguments: ["--http-port", "\(first.port)"], database: first.databasePath)
        second = restarted
        try #require(restarted.port == first.port, "restarted daemon listens on \(restarted.port), not \(first.port)")

        try await waitUntilFollowing(tail, daemon: restarted, metric: "warmup-2")
        let window2 = currentWindow()
        let batch2 = try await restarted.post("""
            [{"device":"tail-x","metric":"humidity","value":10,"ts":\(window2 + 4)},
             {"device":"tail-y","metric":"humidity","value":55,"ts":\(window2 + 4)},
             {"device":"tail-x","metric":"humidity","value":20,"ts":\(window2 + 5)}]
            """, contentType: "application/json")
        #expect(batch2.status == 202, "second batch: \(batch2.status) \(batch2.text)")
        try await tail.waitForRow(device: "tail-x", metric: "humidity", window: window2, count: 2, sum: 30)

        kill(tail.pid, SIGINT)
        let status = try await tail.waitForExit(timeout: generousDeadline)
        #expect(status == .exited(0), "tail after SIGINT: \(status); stderr: \(tail.stderr)")

        for line in tail.stdoutLines {
            let row = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(row?["device"] as? String == "tail-x", "a row of another device or not a JSON row: \(line)")
        }
        let reconnectLines = tail.stderr.split(separator: "\n").filter { $0.contains("reconnecting") }
        #expect(reconnectLines.count == 1, "expected one reconnect line for one outage, stderr:\n\(tail.stderr)")
    }

    /// Posts a reading of `metric` for tail-x every half second until tail prints a row of it.
    private func waitUntilFollowing(_ tail: TailProcess, daemon: Daemon, metric: String) async throws {
        let deadline = ContinuousClock.now + generousDeadline
        while ContinuousClock.now < deadline {
            let answer = try await daemon.post(
                "{\"device\":\"tail-x\",\"metric\":\"\(metric)\",\"value\":1,\"ts\":\(Int(Date().timeIntervalSince1970))}",
                contentType: "application/json")
            #expect(answer.status == 202, "warm-up reading: \(answer.status) \(answer.text)")
            if tail.stdoutLines.contains(where: { $0.contains("\"metric\":\"\(metric)\"") }) { return }
            try await Task.sleep(for: .milliseconds(500))
            if tail.stdoutLines.contains(where: { $0.contains("\"metric\":\"\(metric)\"") }) { return }
            guard tail.isRunning else { break }
        }
        Issue.record("tail printed no \(metric) row; running: \(tail.isRunning)\nstdout:\n\(tail.stdout)\nstderr:\n\(tail.stderr)")
        throw TailTestError.notFollowing(metric)
    }

    /// Start of the current 10 s window in Unix seconds.
    private func currentWindow() -> Int {
        Int(Date().timeIntervalSince1970) / 10 * 10
    }

    @Test func tailExitsOneWhenNoDaemonAnswersAtStart() async throws {
        let output = try await runSensorhub(["tail", "--server", "http://127.0.0.1:1", "--format", "json"], timeout: .seconds(30))
        #expect(output.status == 1)
        #expect(output.stderr.contains("cannot follow http://127.0.0.1:1"), "\(output.stderr)")
        #expect(output.stdout.isEmpty)
    }
}

enum TailTestError: Error {
    case notFollowing(String)
    case rowMissing(String)
    case stillRunning
}

/// `sensorhub tail` running in the background with stdout and stderr captured, spawned
/// with an empty signal mask (a blocked SIGINT inherited from the test runner would make
/// the Ctrl-C check meaningless).
final class TailProcess: Sendable {
    let pid: pid_t
    private let out = LogBuffer()
    private let err = LogBuffer()
    private let exitStatus = LockedStatus()

    enum Status: Equatable, CustomStringConvertible {
        case exited(Int32)
        case signaled(Int32)

        var description: String {
            switch self {
            case .exited(let code): "exit status \(code)"
            case .signaled(let signal): "killed by signal \(signal)"
            }
        }
    }

    init(_ arguments: [String]) throws {
        let stdoutPipe = try Self.pipe(), stderrPipe = try Self.pipe()
        let spawned: pid_t
        do {
            spawned = try ChildProcess.spawn(
                Binary.sensorhub.path, arguments, stdout: stdoutPipe.write, stderr: stderrPipe.write,
                environment: cleanEnvironment())
        } catch {
            for descriptor in [stdoutPipe.read, stdoutPipe.write, stderrPipe.read, stderrPipe.write] { close(descriptor) }
            throw error
        }
        close(stdoutPipe.write)
        close(stderrPipe.write)
        self.pid = spawned
        Self.drain(stdoutPipe.read, into: out)
        Self.drain(stderrPipe.read, into: err)
    }

    var stdout: String { out.text }
    var stderr: String { err.text }

    /// Complete lines printed so far (a line still being written is left out).
    var stdoutLines: [String] {
        let text = out.text
        guard let lastBreak = text.lastIndex(of: "\n") else { return [] }
        return text[..<lastBreak].split(separator: "\n").map(String.init)
    }

    var isRunning: Bool { poll() == nil }

    /// Waits until a row of `device`/`metric` for the 10 s window starting at `window`
    /// shows exactly `count` and `sum` (earlier partial updates of the bucket may precede it).
    func waitForRow(device: String, metric: String, window: Int, count: Int, sum: Double, timeout: Duration = generousDeadline) async throws {
        let start = Self.rfc3339(window), end = Self.rfc3339(window + 10)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            for line in stdoutLines {
                guard let row = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      row["device"] as? String == device, row["metric"] as? String == metric,
                      row["window_start"] as? String == start, row["window_end"] as? String == end
                else { continue }
                if Self.number(row["count"]) == Double(count), Self.number(row["sum"]) == sum { return }
            }
            guard isRunning else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        let wanted = "\(device)/\(metric) [\(start), \(end)) count \(count) sum \(sum)"
        Issue.record("no row \(wanted); tail running: \(isRunning)\nstdout:\n\(stdout)\nstderr:\n\(stderr)")
        throw TailTestError.rowMissing(wanted)
    }

    func waitForExit(timeout: Duration) async throws -> Status {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let status = poll() { return status }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TailTestError.stillRunning
    }

    /// Kills tail if it still runs and reaps it; for `defer`.
    func cleanUp() {
        guard poll() == nil else { return }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        if waitpid(pid, &status, 0) == pid { exitStatus.set(.signaled(SIGKILL)) }
    }

    /// The exit status once the child ended (reaped once, remembered after).
    private func poll() -> Status? {
        if let status = exitStatus.get() { return status }
        var raw: Int32 = 0
        guard waitpid(pid, &raw, WNOHANG) == pid else { return nil }
        // <sys/wait.h>: low 7 bits = terminating signal, 0 for a normal exit.
        let status: Status = raw & 0x7F == 0 ? .exited((raw >> 8) & 0xFF) : .signaled(raw & 0x7F)
        exitStatus.set(status)
        return status
    }

    private static func number(_ value: Any?) -> Double? {
        (value as? Double) ?? (value as? Int).map(Double.init)
    }

    private static func rfc3339(_ seconds: Int) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    /// A pipe whose ends close on exec, so that no other child started meanwhile keeps one.
    private static func pipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        guard Glibc.pipe(&fds) == 0 else { throw ChildProcessError.spawnFailed("pipe", errno) }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return (fds[0], fds[1])
    }

    /// Reads `fd` to EOF on a thread of its own (never on the cooperative pool).
    private static func drain(_ fd: Int32, into buffer: LogBuffer) {
        Thread {
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count < 0, errno == EINTR { continue }
                guard count > 0 else { break }
                buffer.append(String(decoding: chunk[..<count], as: UTF8.self))
            }
            close(fd)
        }.start()
    }
}

/// The reaped exit status of a ``TailProcess``, shared between test code and `defer`.
private final class LockedStatus: Sendable {
    private let value = Mutex<TailProcess.Status?>(nil)
    func get() -> TailProcess.Status? { value.withLock { $0 } }
    func set(_ status: TailProcess.Status) { value.withLock { $0 = status } }
}
