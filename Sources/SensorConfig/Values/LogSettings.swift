/// Log verbosity, the levels of swift-log by the same names (`Logger.Level(rawValue:)`
/// accepts every ``rawValue``).
public enum LogLevel: String, CaseIterable, Sendable, Comparable {
    case trace, debug, info, notice, warning, error, critical

    private var rank: Int { Self.allCases.firstIndex(of: self) ?? 0 }

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rank < rhs.rank }
}

/// Log line format: human-readable text or one JSON object per line.
public enum LogFormat: String, CaseIterable, Sendable {
    case text, json
}
