import Foundation
import TestProcesses

/// A real mosquitto on a free loopback port, configured from the shipped
/// deploy/mosquitto.conf (listener, persistence folder and user replaced for the test),
/// or, when `secure`, from deploy/mosquitto-production.conf and deploy/sensorhub.acl (TLS
/// listener, password file, ACL), with the test's certificates and passwords.
final class Broker {
    /// The files of a production broker: its TLS certificate, the CA that signed it, and
    /// the users allowed in (user name → password).
    struct Secure {
        var caFile: String
        var certificateFile: String
        var keyFile: String
        var users: [String: String]
    }

    let port: Int
    let folder: URL
    let secure: Secure?
    private var pid: pid_t = 0

    init(port: Int? = nil, secure: Secure? = nil) async throws {
        self.port = try port ?? FreePort.pick()
        self.secure = secure
        folder = try temporaryFolder("broker")
        if let secure { try await writePasswords(secure.users) }
        try await start()
    }

    var url: String { "\(secure == nil ? "mqtt" : "mqtts")://127.0.0.1:\(port)" }

    private static let deploy = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("deploy")

    /// The shipped config with the test's listener, files and persistence folder.
    private func configuration() throws -> String {
        let replaced = ["listener", "persistence_location", "cafile", "certfile", "keyfile", "password_file", "acl_file"]
        let shipped = Self.deploy.appendingPathComponent(secure == nil ? "mosquitto.conf" : "mosquitto-production.conf")
        let kept = try String(contentsOf: shipped, encoding: .utf8).split(separator: "\n").filter { line in
            !replaced.contains { line.hasPrefix($0) }
        }
        var lines = kept + ["listener \(port) 127.0.0.1", "persistence_location \(folder.path)/", "user root"]
        if let secure {
            let acl = folder.appendingPathComponent("sensorhub.acl")
            if !FileManager.default.fileExists(atPath: acl.path) {
                try FileManager.default.copyItem(at: Self.deploy.appendingPathComponent("sensorhub.acl"), to: acl)
            }
            lines += [
                "cafile \(secure.caFile)", "certfile \(secure.certificateFile)", "keyfile \(secure.keyFile)",
                "password_file \(folder.appendingPathComponent("passwd").path)", "acl_file \(acl.path)",
            ]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The broker's password file, made with mosquitto_passwd.
    private func writePasswords(_ users: [String: String]) async throws {
        let file = folder.appendingPathComponent("passwd").path
        for (index, (user, password)) in users.sorted(by: { $0.key < $1.key }).enumerated() {
            let output = try await run("/usr/bin/mosquitto_passwd", (index == 0 ? ["-c"] : []) + ["-b", file, user, password])
            guard output.status == 0 else { throw BrokerError.publishFailed(output.stderr) }
        }
    }

    /// Starts (or restarts) mosquitto and waits until it accepts connections. Polls from
    /// the task: a blocking wait held a thread of the concurrency pool every test shares,
    /// and with several brokers starting at once on a loaded 2-core machine, both.
    func start() async throws {
        let config = folder.appendingPathComponent("mosquitto.conf")
        try configuration().write(to: config, atomically: true, encoding: .utf8)
        pid = try ChildProcess.spawn("/usr/sbin/mosquitto", ["-c", config.path])
        let deadline = ContinuousClock.now + .seconds(10)
        while !FreePort.accepts(port) {
            guard ContinuousClock.now < deadline, ChildProcess.isRunning(pid) else { throw BrokerError.notListening(port) }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Stops mosquitto with SIGTERM (it saves its persistence file), SIGKILL after 10 s.
    func stop() async {
        guard pid > 0 else { return }
        await ChildProcess.stop(pid, grace: .seconds(10))
        pid = 0
    }

    /// Kills mosquitto at once (SIGKILL): a crash, nothing saved since its last autosave.
    func kill() {
        guard pid > 0 else { return }
        ChildProcess.kill(pid)
        pid = 0
    }

    /// Publishes one message with mosquitto_pub and waits for it (QoS 1/2 acknowledged);
    /// to a secure broker as `user` (whose password it has), over TLS.
    func publish(_ payload: String, topic: String, qos: Int = 1, as user: String? = nil) async throws {
        var arguments = ["-h", "127.0.0.1", "-p", "\(port)", "-q", "\(qos)", "-t", topic, "-m", payload]
        if let secure {
            arguments += ["--cafile", secure.caFile, "-V", "mqttv5"]
            if let user { arguments += ["-u", user, "-P", secure.users[user] ?? ""] }
        }
        let output = try await run("/usr/bin/mosquitto_pub", arguments)
        guard output.status == 0 else { throw BrokerError.publishFailed(output.stderr) }
    }

    /// Kills mosquitto (SIGKILL: the test is over, nothing of it needs saving) and removes
    /// its folder. For `defer`, so it blocks, but only for the kill.
    func cleanUp() {
        kill()
        try? FileManager.default.removeItem(at: folder)
    }
}

enum BrokerError: Error {
    case notListening(Int)
    case publishFailed(String)
}
