import Foundation

/// A YAML file in a fresh temporary directory, removed when the value goes away.
final class TemporaryConfigFile {
    let directory: URL
    let path: String

    init(_ contents: String, name: String = "config.yaml") throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("sensorconfig-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent(name)
        try Data(contents.utf8).write(to: url)
        path = url.path
    }

    deinit { try? FileManager.default.removeItem(at: directory) }
}
