import Foundation

/// Finds the built `sensorhub` executable: `$SENSORHUB_BIN`, else beside the test bundle
/// (`swift build` puts both in the same products folder).
enum Binary {
    static let sensorhub: URL = {
        if let path = ProcessInfo.processInfo.environment["SENSORHUB_BIN"] {
            return URL(fileURLWithPath: path)
        }
        var candidates: [URL] = []
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var folder = runner.deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(folder.appendingPathComponent("sensorhub"))
            folder = folder.deletingLastPathComponent()
        }
        candidates.append(packageRoot.appendingPathComponent(".build/debug/sensorhub"))
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate.path) {
            return candidate
        }
        fatalError("sensorhub executable not found (looked in \(candidates.map(\.path))); run `swift build` first or set SENSORHUB_BIN")
    }()

    /// The package's root folder (scripts/, test-artifacts/).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}
