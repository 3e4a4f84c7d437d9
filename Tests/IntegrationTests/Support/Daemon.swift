import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization

/// A real `sensorhub serve` on a free loopback port with its own temporary database.
/// The port is read from the daemon's `listening http=HOST:PORT` (or `https=`) log line.
final class Daemon {
    let folder: URL
    let databasePath: String
    let port: Int
    let baseURL: URL
    private let process: Process
    private let log: LogBuffer

    /// The CA file that signed an HTTPS daemon's certificate (requests go through curl,
    /// which can be told to trust it); nil for plain HTTP.
    let caFile: String?

    /// Starts the daemon and waits until it listens and (unless `waitUntilHealthy` is
    /// false) `/healthz` answers 200.
    /// - Parameter database: an existing database to reopen (a restart); default a new one.
    init(
        name: String, arguments: [String] = [], environment: [String: String] = [:], database: String? = nil,
        waitUntilHealthy: Bool = true, caFile: String? = nil
    ) async throws {
        self.caFile = caFile
        folder = try temporaryFolder(name)
        databasePath = database ?? folder.appendingPathComponent("sensorhub.db").path
        let process = Process()
        process.executableURL = Binary.sensorhub
        process.arguments = ["serve", "--db", databasePath, "--http-port", "0", "--http-host", "127.0.0.1"] + arguments
        // Without a test broker the daemon runs HTTP only, so a broker that happens to
        // listen on the default port of the machine is never touched.
        let mqtt = arguments.contains("--mqtt-url") ? [:] : ["SENSORHUB_MQTT_ENABLED": "false"]
        // Test readings are stamped in November 2025: keep every resolution for 10 years,
        // unless a test is about retention, so no retention pass deletes what a test checks.
        let retention = ["SENSORHUB_STORE_RETENTION": "10s=3650d,1m=3650d,1h=3650d"]
        // A loaded CI machine can take longer than the default 10 s to drain and flush a
        // debug build's backlog; a test about the deadline itself sets its own.
        let shutdown = ["SENSORHUB_PIPELINE_SHUTDOWN_DEADLINE": "60s"]
        process.environment = cleanEnvironment().merging(mqtt) { $1 }.merging(retention) { $1 }.merging(shutdown) { $1 }
            .merging(environment) { $1 }
        process.currentDirectoryURL = folder
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = errors
        process.standardInput = FileHandle.nullDevice
        let log = LogBuffer()
        self.log = log
        errors.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            guard !data.isEmpty else {
                handle.readabilityHandler = nil
                log.finish()
                return
            }
            log.append(String(decoding: data, as: UTF8.self))
        }
        try process.run()
        self.process = process

        // The log is looked at before the clock: this process's own threads may have been
        // busy for longer than the deadline (at the start of a run on a loaded machine,
        // the unit tests' work held both for a minute), and a daemon that listened long
        // ago must not be blamed for it.
        let deadline = ContinuousClock.now + generousDeadline
        while true {
            if let found = Self.listeningPort(in: log.text) {
                port = found
                break
            }
            guard process.isRunning else {
                throw DaemonError.exited(status: process.terminationStatus, log: log.text)
            }
            guard ContinuousClock.now < deadline else {
                process.terminate()
                throw DaemonError.timedOut(log: log.text)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        baseURL = URL(string: "\(log.text.contains("listening https=") ? "https" : "http")://127.0.0.1:\(port)")!
        while waitUntilHealthy, try await request("GET", "/healthz").status != 200 {
            guard ContinuousClock.now < deadline else { throw DaemonError.timedOut(log: log.text) }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// The port of the `listening http=HOST:PORT` (or `https=`) line (text or JSON log format).
    private static func listeningPort(in log: String) -> Int? {
        guard let range = log.range(of: "listening http=") ?? log.range(of: "listening https=") else { return nil }
        let rest = log[range.upperBound...].prefix { $0 != "\n" && $0 != " " && $0 != "\"" }
        guard let colon = rest.lastIndex(of: ":") else { return nil }
        return Int(rest[rest.index(after: colon)...])
    }

    /// Everything the daemon logged so far.
    var output: String { log.text }

    var isRunning: Bool { process.isRunning }

    var pid: Int32 { process.processIdentifier }

    /// Resident memory of the daemon in bytes (VmRSS of /proc/PID/status), nil once gone.
    var residentBytes: Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return nil }
        return kilobytes * 1024
    }

    /// One HTTP request; returns status, body and headers.
    func request(_ method: String, _ path: String, body: Data? = nil, headers: [String: String] = [:]) async throws -> HTTPAnswer {
        if baseURL.scheme == "https" { return try await curl(method, path, body: body, headers: headers) }
        var request = URLRequest(url: URL(string: path, relativeTo: baseURL)!)
        request.httpMethod = method
        request.httpBody = body
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        return HTTPAnswer(status: http.statusCode, body: data, headers: http.allHeaderFields as? [String: String] ?? [:])
    }

    /// ``request(_:_:body:headers:)`` over HTTPS, with curl trusting ``caFile``
    /// (swift-corelibs-foundation's URLSession cannot be given a CA).
    private func curl(_ method: String, _ path: String, body: Data?, headers: [String: String]) async throws -> HTTPAnswer {
        let id = UUID().uuidString
        let bodyFile = folder.appendingPathComponent("curl-\(id).body").path
        let headerFile = folder.appendingPathComponent("curl-\(id).headers").path
        var arguments = ["-sS", "-X", method, "-o", bodyFile, "-D", headerFile, "-w", "%{http_code}"]
        if let caFile { arguments += ["--cacert", caFile] }
        for (name, value) in headers { arguments += ["-H", "\(name): \(value)"] }
        if let body {
            let requestFile = folder.appendingPathComponent("curl-\(id).request").path
            try body.write(to: URL(fileURLWithPath: requestFile))
            arguments += ["--data-binary", "@\(requestFile)"]
        }
        let output = try await run("/usr/bin/curl", arguments + [URL(string: path, relativeTo: baseURL)!.absoluteString])
        guard output.status == 0, let status = Int(output.stdout) else { throw DaemonError.curlFailed(output.stderr) }
        var fields: [String: String] = [:]
        for line in ((try? String(contentsOfFile: headerFile, encoding: .utf8)) ?? "").split(separator: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return HTTPAnswer(status: status, body: (try? Data(contentsOf: URL(fileURLWithPath: bodyFile))) ?? Data(), headers: fields)
    }

    /// POSTs readings with the given content type.
    func post(_ body: String, contentType: String, headers: [String: String] = [:]) async throws -> HTTPAnswer {
        try await request("POST", "/v1/readings", body: Data(body.utf8), headers: headers.merging(["Content-Type": contentType]) { $1 })
    }

    /// Runs a CLI command against this daemon (`--server` is added).
    func cli(_ arguments: [String]) async throws -> ProcessOutput {
        try await runSensorhub(arguments + ["--server", baseURL.absoluteString] + (caFile.map { ["--cacert", $0] } ?? []))
    }

    /// Sends SIGTERM and waits for the exit status (longer than the 60 s shutdown deadline).
    @discardableResult
    func stop(timeout: Duration = .seconds(90)) async throws -> Int32 {
        if process.isRunning { process.terminate() }
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                kill(process.processIdentifier, SIGKILL)
                throw DaemonError.timedOut(log: output)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        await readRestOfLog()
        return process.terminationStatus
    }

    /// Waits (a little) until the log pipe reached its end: the process may exit before
    /// its last lines were read.
    private func readRestOfLog() async {
        let deadline = ContinuousClock.now + .seconds(5)
        while !log.isFinished, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Kills the daemon with SIGKILL (a crash: no shutdown code runs) and waits for it.
    func kill9() async throws {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        while process.isRunning { try await Task.sleep(for: .milliseconds(5)) }
        await readRestOfLog()
    }

    /// Kills the daemon if it still runs (SIGKILL: the test is over, and a test about
    /// shutdown calls ``stop(timeout:)``) and removes its folder. For `defer`, so it blocks
    /// until the process is gone: at once, where a SIGTERM had a loaded daemon drain and
    /// flush for seconds while this blocked a thread of the pool every test shares.
    func cleanUp() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: folder)
    }
}

/// The daemon's log as it arrives from its pipe (written on a FileHandle thread).
final class LogBuffer: Sendable {
    private let buffer = Mutex("")
    private let finished = Atomic<Bool>(false)
    func append(_ text: String) { buffer.withLock { $0 += text } }
    var text: String { buffer.withLock { $0 } }
    /// The pipe reached its end: everything the process wrote is in ``text``.
    func finish() { finished.store(true, ordering: .releasing) }
    var isFinished: Bool { finished.load(ordering: .acquiring) }
}

struct HTTPAnswer: Sendable {
    let status: Int
    let body: Data
    let headers: [String: String]

    var text: String { String(decoding: body, as: UTF8.self) }

    func json() throws -> Any { try JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]) }

    func header(_ name: String) -> String? {
        headers.first { $0.key.lowercased() == name.lowercased() }?.value
    }
}

enum DaemonError: Error, CustomStringConvertible {
    case exited(status: Int32, log: String)
    case timedOut(log: String)
    case curlFailed(String)

    var description: String {
        switch self {
        case .exited(let status, let log): "daemon exited with status \(status):\n\(log)"
        case .curlFailed(let stderr): "curl failed: \(stderr)"
        case .timedOut(let log): "daemon did not get ready in time:\n\(log)"
        }
    }
}
