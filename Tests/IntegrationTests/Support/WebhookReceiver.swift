import Foundation
import TestProcesses

/// A webhook target for the tests: python3's http.server on a loopback port, answering
/// the first `failFirst` POSTs with 500 and the others with 200, and writing every POST
/// it got, in order, as a line `OK <body>` or `FAIL <body>` to a file. It can be stopped
/// and started again on the same port (a target that is down for a while).
final class WebhookReceiver {
    let port: Int
    let folder: URL
    private let failFirst: Int
    private var pid: pid_t = 0

    private static let script = """
        import http.server, sys
        log, fail_first, port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
        attempts = [0]
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get('Content-Length', 0))).decode()
                attempts[0] += 1
                ok = attempts[0] > fail_first
                with open(log, 'a') as f:
                    f.write(('OK ' if ok else 'FAIL ') + body + '\\n')
                self.send_response(200 if ok else 500)
                self.send_header('Content-Length', '0')
                self.end_headers()
            def log_message(self, *args):
                pass
        http.server.HTTPServer(('127.0.0.1', port), Handler).serve_forever()
        """

    init(failFirst: Int = 0, startNow: Bool = true) async throws {
        port = try FreePort.pick()
        folder = try temporaryFolder("webhook")
        self.failFirst = failFirst
        if startNow { try await start() }
    }

    var url: String { "http://127.0.0.1:\(port)/hook" }

    private var logPath: String { folder.appendingPathComponent("posts.log").path }

    func start() async throws {
        pid = try ChildProcess.spawn("/usr/bin/python3", ["-c", Self.script, logPath, "\(failFirst)", "\(port)"])
        guard await eventually({ FreePort.accepts(port) }) else { throw BrokerError.notListening(port) }
    }

    /// Every POST so far, in order: whether it was answered 200, and its body.
    var posts: [(ok: Bool, body: String)] {
        guard let text = try? String(contentsOfFile: logPath, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").map { line in
            line.hasPrefix("OK ") ? (true, String(line.dropFirst(3))) : (false, String(line.dropFirst(5)))
        }
    }

    /// The bodies answered 200, in order.
    var delivered: [String] { posts.filter(\.ok).map(\.body) }

    func cleanUp() {
        if pid > 0 { ChildProcess.kill(pid) }
        try? FileManager.default.removeItem(at: folder)
    }
}

/// `mosquitto_sub` writing every message of a topic filter (`-v`: topic, space, payload)
/// to a file, one per line, with QoS 1.
final class TopicRecorder {
    let folder: URL
    private var pid: pid_t = 0

    init(broker: Broker, filter: String) async throws {
        folder = try temporaryFolder("subscriber")
        let path = folder.appendingPathComponent("messages.log").path
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        defer { close(fd) }
        pid = try ChildProcess.spawn("/usr/bin/mosquitto_sub", ["-h", "127.0.0.1", "-p", "\(broker.port)", "-q", "1", "-v", "-t", filter], stdout: fd)
        // Subscribed once a retained-free probe published after it arrives.
        let probe = filter.replacingOccurrences(of: "#", with: "probe").replacingOccurrences(of: "+", with: "probe")
        guard try await eventually({
            try await broker.publish("probe", topic: probe)
            return messages.contains { $0.topic == probe }
        }) else { throw BrokerError.publishFailed("the subscriber to \(filter) never saw its probe") }
    }

    /// Every message so far, in order (the probe included).
    var messages: [(topic: String, payload: String)] {
        guard let text = try? String(contentsOfFile: folder.appendingPathComponent("messages.log").path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line -> (topic: String, payload: String)? in
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2 else { return nil }
            return (String(parts[0]), String(parts[1]))
        }
    }

    func cleanUp() {
        if pid > 0 { ChildProcess.kill(pid) }
        try? FileManager.default.removeItem(at: folder)
    }
}
