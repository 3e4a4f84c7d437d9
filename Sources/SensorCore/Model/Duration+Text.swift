extension Duration {
    /// The shortest `<whole number><unit>` text for this duration, units `ms`, `s`, `m`,
    /// `h`, `d` (`250ms`, `1s`, `5m`, `7d`): how settings write durations and how messages
    /// quote them. Finer than a millisecond is shown in milliseconds, truncated.
    public var shortText: String {
        let (seconds, attoseconds) = components
        let milliseconds = seconds * 1_000 + attoseconds / 1_000_000_000_000_000
        for (suffix, unit) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1_000)]
        where milliseconds % unit == 0 && milliseconds != 0 {
            return "\(milliseconds / unit)\(suffix)"
        }
        return "\(milliseconds)ms"
    }
}
