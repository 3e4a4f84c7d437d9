import Foundation
import Logging
import Synchronization

/// A log handler that keeps the pipeline's warnings and errors (message and metadata) so
/// an end-to-end run can say why a flush failed; everything below `.warning` is dropped.
final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])

    var logger: Logger {
        Logger(label: "sensorhub.benchmarks") { _ in Handler(capture: self) }
    }

    /// The captured lines, `level: message {metadata}`.
    var captured: [String] { lines.withLock { $0 } }

    fileprivate func append(_ line: String) { lines.withLock { $0.append(line) } }

    private struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .warning

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { _, new in new }
            let details = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            capture.append("\(event.level): \(event.message) {\(details)}")
        }
    }
}
