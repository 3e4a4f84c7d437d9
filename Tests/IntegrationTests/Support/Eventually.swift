/// How long a test waits for something that normally takes a second or less. CI runs the
/// suite's tests in parallel on a busy 2-core machine with a debug build, where the same
/// thing can take many times longer; a wait ends as soon as its condition holds, so a
/// generous deadline costs nothing when all is well.
let generousDeadline: Duration = .seconds(120)

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
func eventually(
    timeout: Duration = generousDeadline, every pause: Duration = .milliseconds(50), _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try await condition() { return true }
        guard ContinuousClock.now < deadline else { return false }
        try? await Task.sleep(for: pause)
    }
}
