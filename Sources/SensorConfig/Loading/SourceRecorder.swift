internal import Configuration
internal import Synchronization

/// An `AccessReporter` that keeps the last access event, so that after a `ConfigReader`
/// lookup we know which provider answered (and what name it looked up), or which one threw.
///
/// `ConfigReader`'s optional getters swallow provider errors and return nil (documented in
/// swift-configuration's Troubleshooting guide, which recommends an access reporter to see
/// them); this recorder is how a wrong-typed value is turned into an error instead of a
/// silent fallback to the default. Used by one `load` call at a time; reports arrive
/// synchronously on the reading thread.
final class SourceRecorder: AccessReporter {
    private let last = Mutex<AccessEvent?>(nil)

    func report(_ event: AccessEvent) {
        last.withLock { $0 = event }
    }

    /// The event of the most recent access, cleared.
    func take() -> AccessEvent? {
        last.withLock { event in
            defer { event = nil }
            return event
        }
    }
}
