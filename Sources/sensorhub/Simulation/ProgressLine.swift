import Foundation

/// One status line on stderr, rewritten in place (`\r`) at most ten times a second when
/// stderr is a terminal, and once at the end otherwise.
struct ProgressLine {
    private let interactive = isatty(STDERR_FILENO) != 0
    private var lastDraw = ContinuousClock.now

    mutating func update(_ text: @autoclosure () -> String) {
        guard interactive, ContinuousClock.now - lastDraw > .milliseconds(100) else { return }
        lastDraw = .now
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + text()).utf8))
    }

    func finish() {
        if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
