import Foundation

/// What the import shows on stderr: on a terminal a bar per file, rewritten in place (bytes
/// done of the total, readings/s, ETA); otherwise one line per file when it ends.
struct ImportProgress {
    private let interactive = isatty(STDERR_FILENO) != 0
    private var lastDraw = ContinuousClock.now

    mutating func update(file: String, done: Int64, total: Int64?, readings: Int, since started: ContinuousClock.Instant) {
        guard interactive, ContinuousClock.now - lastDraw > .milliseconds(200) else { return }
        lastDraw = .now
        let elapsed = (ContinuousClock.now - started) / .seconds(1)
        let rate = elapsed > 0 ? Double(readings) / elapsed : 0
        var line = "import \((file as NSString).lastPathComponent) "
        if let total, total > 0 {
            let fraction = min(1, Double(done) / Double(total))
            let filled = Int(fraction * 30)
            line += "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: 30 - filled) + "] "
            line += String(format: "%3.0f%% %@/%@ ", fraction * 100, Self.bytes(done), Self.bytes(total))
            if fraction > 0.001 {
                line += "ETA " + Self.clock(elapsed / fraction - elapsed) + " "
            }
        } else {
            line += Self.bytes(done) + " "
        }
        line += String(format: "%.0f readings/s", rate)
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
    }

    /// Ends a file: clears the bar, or prints its line when stderr is not a terminal.
    func finish(file: String, summary: String) {
        if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        FileHandle.standardError.write(Data("import: \(file): \(summary)\n".utf8))
    }

    static func bytes(_ count: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
    }

    static func clock(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        return total >= 3600 ? String(format: "%d:%02d:%02d", total / 3600, total / 60 % 60, total % 60) : String(format: "%d:%02d", total / 60, total % 60)
    }
}
