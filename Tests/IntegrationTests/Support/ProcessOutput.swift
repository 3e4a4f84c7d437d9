import Foundation

/// What a finished command printed and how it ended.
struct ProcessOutput: Sendable {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// Runs `sensorhub` with arguments to completion (CLI commands), with a clean environment
/// apart from `environment`.
func runSensorhub(_ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(60)) async throws -> ProcessOutput {
    try await run(Binary.sensorhub.path, arguments, environment: environment, timeout: timeout)
}

/// Runs any program to completion with a clean environment apart from `environment`.
func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(60)) async throws -> ProcessOutput {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.environment = cleanEnvironment().merging(environment) { $1 }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    // Read both pipes concurrently so a full pipe never blocks the child, each on a plain
    // thread: a blocking read on the 2-thread cooperative pool could stall every test
    // (a pipe end inherited by another child stays open as long as that child lives).
    async let stdout = readToEnd(out.fileHandleForReading)
    async let stderr = readToEnd(err.fileHandleForReading)
    let deadline = ContinuousClock.now + timeout
    while process.isRunning {
        if ContinuousClock.now > deadline {
            process.terminate()
            break
        }
        try await Task.sleep(for: .milliseconds(10))
    }
    process.waitUntilExit()
    return ProcessOutput(
        status: process.terminationStatus,
        stdout: String(decoding: await stdout, as: UTF8.self),
        stderr: String(decoding: await stderr, as: UTF8.self))
}

/// Everything `handle` delivers until EOF, read on a thread of its own.
private func readToEnd(_ handle: FileHandle) async -> Data {
    await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: handle.readDataToEndOfFile()) }.start()
    }
}

/// The test's environment without any SENSORHUB_* setting, so a developer's shell cannot
/// change what a test sees.
func cleanEnvironment() -> [String: String] {
    ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SENSORHUB_") }
}

/// A fresh temporary folder, removed by the caller.
func temporaryFolder(_ name: String) throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sensorhub-\(name)-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder
}
