import Foundation
import Testing

@Suite(.serialized) struct CLITests {
    @Test func usageErrorsExit64WithAReason() async throws {
        for arguments in [["frobnicate"], ["query"], ["query", "--window", "7x"], ["query", "--window", "1m", "--format", "xml"],
                          ["query", "--window", "1m", "--from", "yesterday"], ["devices", "--bogus"]] {
            let output = try await runSensorhub(arguments)
            #expect(output.status == 64, "\(arguments) → \(output.status): \(output.stderr)")
            #expect(!output.stderr.isEmpty, "\(arguments): no reason on stderr")
        }
    }

    @Test func unreachableServerOrForeignFileExit1() async throws {
        let folder = try temporaryFolder("cli")
        defer { try? FileManager.default.removeItem(at: folder) }
        let unreachable = try await runSensorhub(["devices", "--server", "http://127.0.0.1:9"])
        #expect(unreachable.status == 1 && unreachable.stderr.contains("127.0.0.1:9"), "\(unreachable.stderr)")

        let foreign = folder.appendingPathComponent("notes.txt")
        try Data("not a database".utf8).write(to: foreign)
        for path in [foreign.path, folder.appendingPathComponent("missing.db").path] {
            let output = try await runSensorhub(["query", "--db", path, "--window", "1m"])
            #expect(output.status == 1 && output.stderr.contains(path), "\(path) → \(output.status): \(output.stderr)")
        }
    }

    @Test func emptyResultIsSuccess() async throws {
        let daemon = try await Daemon(name: "empty")
        defer { daemon.cleanUp() }
        let json = try await daemon.cli(["query", "--window", "1m", "--format", "json"])
        #expect(json.status == 0 && json.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]")
        let windowError = try await daemon.cli(["query", "--window", "7s"])
        #expect(windowError.status == 64 && windowError.stderr.contains("10s"), "\(windowError.stderr)")
    }

    @Test func badConfigurationStopsStartupNamingTheKey() async throws {
        let folder = try temporaryFolder("config")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("sensorhub.yaml")
        try Data("http:\n  prot: 8080\n".utf8).write(to: file)
        let output = try await runSensorhub(["serve", "--config", file.path, "--db", folder.appendingPathComponent("x.db").path])
        #expect(output.status != 0 && output.stderr.contains("prot"), "\(output.stderr)")
        let badEnv = try await runSensorhub(["serve", "--db", folder.appendingPathComponent("x.db").path], environment: ["SENSORHUB_HTTP_PORT": "80x"])
        #expect(badEnv.status != 0 && badEnv.stderr.contains("SENSORHUB_HTTP_PORT"), "\(badEnv.stderr)")
    }
}
