/// MQTT topic filters (MQTT 3.1.1 and 5, section 4.7): levels separated by `/`; `+` matches
/// one level and must be the whole level; `#` matches the rest and must be the whole last
/// level; at least one character, no NUL, at most 65 535 bytes of UTF-8.
enum TopicFilter {
    static let maximumBytes = 65_535

    /// Why `filter` is not a valid topic filter, or nil when it is. An empty filter is left
    /// to the caller, which reports it as an empty list item.
    static func problem(in filter: String) -> Reason? {
        if filter.utf8.count > maximumBytes { return .tooLong }
        if filter.unicodeScalars.contains("\0") { return .nul }
        let levels = filter.split(separator: "/", omittingEmptySubsequences: false)
        for (index, level) in levels.enumerated() {
            if level.contains("#"), level != "#" || index != levels.count - 1 { return .misplacedMultiLevel }
            if level.contains("+"), level != "+" { return .misplacedSingleLevel }
        }
        return nil
    }

    enum Reason {
        case tooLong, nul, misplacedMultiLevel, misplacedSingleLevel

        var text: String {
            switch self {
            case .tooLong: "is longer than \(TopicFilter.maximumBytes) bytes"
            case .nul: "contains a NUL character"
            case .misplacedMultiLevel: "# must be alone in the last level (e.g. sensors/#)"
            case .misplacedSingleLevel: "+ must be alone in its level (e.g. sensors/+/temperature)"
            }
        }
    }
}
