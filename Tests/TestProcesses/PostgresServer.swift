public import Foundation

/// A throwaway PostgreSQL server for one test: `initdb` in a temporary folder, then
/// `postgres` on a free loopback port (trust authentication, fsync off: the tests' data
/// need not survive a power loss, only a server restart). Debian's `postgresql` package
/// provides the programs (`make test` and `.ci/run` install it).
///
/// PostgreSQL refuses to run as root, so under root (CI) both run as the `postgres` user
/// that the package creates, through runuser, in a folder that user owns.
public final class PostgresServer: @unchecked Sendable {
    public private(set) var port: Int
    public let folder: URL
    private var pid: pid_t = 0
    private let binaries: URL

    public init() throws {
        binaries = try Self.findBinaries()
        port = 0
        folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("pg-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        if geteuid() == 0 {
            try run("/bin/chown", ["postgres:postgres", folder.path], asPostgres: false)
        }
        try run(binaries.appendingPathComponent("initdb").path, [
            "-D", dataFolder, "-A", "trust", "-U", "sensorhub", "-E", "UTF8", "--no-sync", "--locale", "C",
        ], asPostgres: true)
        // Picked after initdb, which takes seconds: a port picked before it was taken
        // meanwhile once in a full run ("could not bind ... Address already in use"), by
        // another test's server or an outgoing connection. Should that still happen
        // between the pick and the server's bind, another port.
        for attempt in 1...5 {
            port = try FreePort.pick()
            let logBefore = serverLog.utf8.count
            do {
                try start()
                return
            } catch PostgresServerError.notListening(_, let log) where attempt < 5
                && String(decoding: log.utf8.dropFirst(logBefore), as: UTF8.self).contains("Address already in use") {
                continue
            }
        }
    }

    private var dataFolder: String { folder.appendingPathComponent("data").path }

    /// The URL of the server's `postgres` database, as `--db` takes it.
    public var url: String { "postgres://sensorhub@127.0.0.1:\(port)/postgres?sslmode=disable" }

    /// Starts (or restarts) the server and waits until it accepts connections.
    public func start() throws {
        let log = open(folder.appendingPathComponent("server.log").path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        defer { close(log) }
        let arguments = [
            "-D", dataFolder, "-p", "\(port)", "-k", folder.path, "-c", "listen_addresses=127.0.0.1",
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=200",
        ]
        let postgres = binaries.appendingPathComponent("postgres").path
        pid = try geteuid() == 0
            ? ChildProcess.spawn("/usr/sbin/runuser", ["-u", "postgres", "--", postgres] + arguments, stdout: log, stderr: log)
            : ChildProcess.spawn(postgres, arguments, stdout: log, stderr: log)
        // Listening is not ready: while it recovers or starts up, the server accepts
        // connections only to refuse them (SQLSTATE 57P03). pg_isready tells the two apart.
        let deadline = Date().addingTimeInterval(60)
        while !isReady() {
            guard Date() < deadline, ChildProcess.isRunning(pid) else { throw PostgresServerError.notListening(port, log: serverLog) }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    /// Whether the server accepts connections (pg_isready's exit status 0).
    private func isReady() -> Bool {
        guard FreePort.accepts(port) else { return false }
        return (try? run(binaries.appendingPathComponent("pg_isready").path, ["-q", "-h", "127.0.0.1", "-p", "\(port)"], asPostgres: false)) != nil
    }

    /// Stops the server at once (SIGKILL to runuser and the postmaster's group would leave
    /// its backends; SIGQUIT is PostgreSQL's immediate shutdown, a crash without fsync).
    public func crash() {
        signalServer(SIGQUIT)
    }

    /// Stops the server cleanly (SIGINT: fast shutdown).
    public func stop() {
        signalServer(SIGINT)
    }

    private func signalServer(_ signal: Int32) {
        guard pid > 0 else { return }
        // Under runuser the postmaster is runuser's child: signal it by its pid file.
        if let text = try? String(contentsOfFile: dataFolder + "/postmaster.pid", encoding: .utf8),
           let line = text.split(separator: "\n").first, let postmaster = pid_t(line) {
            kill(postmaster, signal)
        }
        kill(pid, signal)
        let deadline = Date().addingTimeInterval(30)
        while ChildProcess.isRunning(pid), Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if ChildProcess.isRunning(pid) { ChildProcess.kill(pid) }
        pid = 0
        // Wait for the port to close too, so a restart can bind it again.
        let closed = Date().addingTimeInterval(30)
        while FreePort.accepts(port), Date() < closed { Thread.sleep(forTimeInterval: 0.02) }
    }

    /// Stops the server at once (``crash()``: the test is over, nothing of it needs
    /// saving; a fast shutdown's checkpoint took seconds on a loaded machine) and removes
    /// its folder.
    public func cleanUp() {
        crash()
        try? FileManager.default.removeItem(at: folder)
    }

    public var serverLog: String {
        (try? String(contentsOf: folder.appendingPathComponent("server.log"), encoding: .utf8)) ?? ""
    }

    /// Runs one SQL statement through psql, returning its unaligned output; waits for it
    /// on a thread of its own (``onOwnThread(_:)``).
    public func psql(_ sql: String) async throws -> String {
        try await onOwnThread { [self] in
            try run(binaries.appendingPathComponent("psql").path, [
                "-h", "127.0.0.1", "-p", "\(port)", "-U", "sensorhub", "-d", "postgres", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql,
            ], asPostgres: false)
        }
    }

    /// Debian puts the server programs in /usr/lib/postgresql/<version>/bin, off the PATH.
    private static func findBinaries() throws -> URL {
        let root = URL(fileURLWithPath: "/usr/lib/postgresql")
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []).compactMap(Int.init).sorted()
        for version in versions.reversed() {
            let bin = root.appendingPathComponent("\(version)/bin")
            if FileManager.default.isExecutableFile(atPath: bin.appendingPathComponent("initdb").path) { return bin }
        }
        throw PostgresServerError.notInstalled
    }

    @discardableResult
    private func run(_ path: String, _ arguments: [String], asPostgres: Bool) throws -> String {
        let process = Process()
        if asPostgres, geteuid() == 0 {
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
            process.arguments = ["-u", "postgres", "--", path] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: path)
            process.arguments = arguments
        }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw PostgresServerError.failed(([path] + arguments).joined(separator: " "), text)
        }
        return text
    }
}

public enum PostgresServerError: Error, CustomStringConvertible {
    case notInstalled
    case notListening(Int, log: String)
    case failed(String, String)

    public var description: String {
        switch self {
        case .notInstalled: "PostgreSQL is not installed (apt-get install postgresql; make test does it)"
        case let .notListening(port, log): "postgres did not listen on \(port): \(log)"
        case let .failed(command, output): "\(command) failed: \(output)"
        }
    }
}
