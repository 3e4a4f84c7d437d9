import Foundation

/// Certificates made with openssl for the TLS tests, once per test run: a CA and, signed
/// by it, a certificate for 127.0.0.1 and localhost, one that has expired and one for
/// another host name; and a second CA nobody trusts. EC P-256 keys (fast to make).
struct TestPKI: Sendable {
    let folder: String
    var caFile: String { folder + "/ca.pem" }
    var otherCAFile: String { folder + "/other-ca.pem" }
    /// Valid for 127.0.0.1 and localhost.
    let server: Pair
    /// For 127.0.0.1 too, but its validity ended yesterday.
    let expired: Pair
    /// Valid, but for elsewhere.example only.
    let wrongHost: Pair

    struct Pair: Sendable {
        let certificate: String
        let key: String
    }

    static let shared = Task { try await TestPKI.make() }

    private static func make() async throws -> TestPKI {
        let folder = try temporaryFolder("pki").path
        func openssl(_ arguments: [String]) async throws {
            let output = try await run("/usr/bin/openssl", arguments)
            guard output.status == 0 else { throw PKIError.openssl(arguments.joined(separator: " "), output.stderr) }
        }
        let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        for ca in ["ca", "other-ca"] {
            try await openssl(["req", "-x509"] + key + ["-keyout", "\(folder)/\(ca).key", "-out", "\(folder)/\(ca).pem", "-days", "2", "-subj", "/CN=SensorHub test \(ca)"])
        }
        func pair(_ name: String, names: String, days: Int) async throws -> Pair {
            let extensions = "\(folder)/\(name).ext"
            try Data("subjectAltName=\(names)\n".utf8).write(to: URL(fileURLWithPath: extensions))
            try await openssl(["req"] + key + ["-keyout", "\(folder)/\(name).key", "-out", "\(folder)/\(name).csr", "-subj", "/CN=\(name)"])
            try await openssl([
                "x509", "-req", "-in", "\(folder)/\(name).csr", "-CA", "\(folder)/ca.pem", "-CAkey", "\(folder)/ca.key",
                "-CAcreateserial", "-out", "\(folder)/\(name).pem", "-days", "\(days)", "-extfile", extensions,
            ])
            return Pair(certificate: "\(folder)/\(name).pem", key: "\(folder)/\(name).key")
        }
        return TestPKI(
            folder: folder,
            server: try await pair("server", names: "IP:127.0.0.1,DNS:localhost", days: 2),
            expired: try await pair("expired", names: "IP:127.0.0.1,DNS:localhost", days: -1),
            wrongHost: try await pair("wrong-host", names: "DNS:elsewhere.example", days: 2))
    }
}

enum PKIError: Error {
    case openssl(String, String)
}
