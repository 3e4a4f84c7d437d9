/// The values a reading may carry (CONTRACT §2 v2): finite, with a magnitude of at most
/// ``limit``.
///
/// The bound is what keeps every statistic of any bucket finite: a sum of 2^63 values of
/// 1e100 is below 1e119, a squared deviation below 4e200, and M2 (at most count times the
/// largest squared deviation) below 4e219, all far from `Double.greatestFiniteMagnitude`
/// (1.8e308). Without it, three readings (1.7e308, -1.7e308, 0) turn the mean and M2
/// into NaN.
public enum ValueRange {
    /// The largest magnitude accepted.
    public static let limit = 1e100

    /// Whether `value` is finite and within ±``limit``. NaN is not.
    @inline(__always)
    public static func contains(_ value: Double) -> Bool {
        value.magnitude <= limit
    }

    /// The message for a finite value outside the range (`noun index: field text is …`).
    static func problem(_ subject: String) -> String {
        "\(subject) is outside the accepted range of ±1e100"
    }
}
