/// MQTT client identifiers as the settings accept them: 1–128 characters from `A-Z`, `a-z`,
/// `0-9`, `.`, `_` and `-`. MQTT 3.1.1 only obliges brokers to take 1–23 letters and digits,
/// MQTT 5 allows longer ones and common brokers accept these.
enum MQTTClientID {
    static let maximumLength = 128

    static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "A"..."Z", "a"..."z", "0"..."9", ".", "_", "-": true
        default: false
        }
    }

    /// `sensorhub-` + `hostName` with every character outside the allowed set replaced by
    /// `-`, cut to ``maximumLength``; `sensorhub` alone when there is no host name. The same
    /// host name always gives the same identifier, so a restarted daemon resumes its session.
    static func defaultID(hostName: String) -> String {
        let prefix = "sensorhub"
        guard !hostName.isEmpty else { return prefix }
        let host = String(String.UnicodeScalarView(hostName.unicodeScalars.map { isAllowed($0) ? $0 : "-" }))
        return String((prefix + "-" + host).prefix(maximumLength))
    }
}
