/// Where one rule stands for one series, and the judgement that moves it on. Pure: the
/// rule engine feeds it closed windows (threshold rules) or silences (absent rules) and
/// stores it; a transition is returned exactly when the state changes between firing and
/// not firing.
public struct AlertState: Sendable, Equatable {
    public enum Phase: String, Sendable {
        /// Never fired (a threshold rule may be counting a streak).
        case quiet
        case firing
        case resolved
    }

    public enum Transition: Sendable, Equatable {
        case fired
        case resolved
    }

    public var phase: Phase
    /// Consecutive closed windows meeting the condition, ending at ``lastWindowEnd``.
    public var streak: Int
    /// Start of the first window of the current streak (µs).
    public var streakStart: Int64
    /// End of the last window judged (µs); a window starting elsewhere breaks the streak.
    public var lastWindowEnd: Int64?
    /// When the current phase began (µs): for a threshold rule, the start of the first
    /// window of the streak that fired it, or of the window that resolved it; for an
    /// absent rule, the moment the silence reached its duration, or the event time of the
    /// reading that ended it.
    public var since: Int64
    /// The value behind the last transition: the window's statistic (threshold rules), or
    /// the event time of the series' last reading in Unix seconds (absent rules).
    public var value: Double?

    public init(phase: Phase = .quiet, streak: Int = 0, streakStart: Int64 = 0, lastWindowEnd: Int64? = nil, since: Int64 = 0, value: Double? = nil) {
        self.phase = phase
        self.streak = streak
        self.streakStart = streakStart
        self.lastWindowEnd = lastWindowEnd
        self.since = since
        self.value = value
    }

    /// Whether the state says anything a restart must not forget: it fired once, or it
    /// is counting a streak.
    public var isWorthKeeping: Bool { phase != .quiet || streak > 0 }

    /// Judges the next closed window of the series (windows come in ascending order;
    /// windows without readings are not judged, and a gap breaks the streak): fires once
    /// `required` windows in a row met the condition, resolves at the first that does not.
    public mutating func judge(windowStart: Int64, windowEnd: Int64, value: Double?, met: Bool, required: Int) -> Transition? {
        if lastWindowEnd != windowStart { streak = 0 }
        lastWindowEnd = windowEnd
        guard met else {
            streak = 0
            guard phase == .firing else { return nil }
            phase = .resolved
            since = windowStart
            self.value = value
            return .resolved
        }
        if streak == 0 { streakStart = windowStart }
        streak += 1
        guard phase != .firing, streak >= required else { return nil }
        phase = .firing
        since = streakStart
        self.value = value
        return .fired
    }

    /// Judges a series' silence at `now`: fires when its last reading (event time
    /// `lastSeen`), or `watchedSince` if that is later, is `absent` or more ago; resolves
    /// once a reading less than `absent` old ended it (all µs).
    public mutating func judgeSilence(lastSeen: Int64, watchedSince: Int64 = .min, now: Int64, absent: Int64) -> Transition? {
        let lastSeenSeconds = Double(lastSeen) / 1_000_000
        let silentFrom = max(lastSeen, watchedSince)
        if now - silentFrom >= absent {
            guard phase != .firing else { return nil }
            phase = .firing
            since = silentFrom + absent
            value = lastSeenSeconds
            return .fired
        }
        // Watched too briefly to fire, but not heard from either: a firing alert stays.
        guard now - lastSeen < absent else { return nil }
        guard phase == .firing else { return nil }
        phase = .resolved
        since = lastSeen
        value = lastSeenSeconds
        return .resolved
    }
}
