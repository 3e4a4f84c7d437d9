import ArgumentParser

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Ends a command with the contract's exit status and a one-line reason on stderr:
/// 1 for a failed operation, 64 for bad arguments (CONTRACT.md §3).
enum CommandFailure {
    static func fail(_ message: String) -> ExitCode {
        printError(message)
        return ExitCode(1)
    }

    static func usage(_ message: String) -> ExitCode {
        printError(message)
        return ExitCode(64)
    }

    static func printError(_ message: String) {
        let line = "sensorhub: " + message.replacingOccurrences(of: "\n", with: " ") + "\n"
        fputs(line, stderr)
    }
}
