internal import Foundation
internal import SensorCore

/// A value as a source holds it: text, or (only a list key, `store.resolutions` or
/// `mqtt.topics`, in the file) a list.
enum RawValue {
    case text(String)
    case list([String])
}

/// What is wrong with a value, as said after `source: ` (and `key: ` for the file).
struct Problem: Error {
    let text: String
    init(_ text: String) { self.text = text }
}

/// The rules every setting's text must follow, one function per kind of value; each
/// returns the value or the problem, never repeating a secret.
enum ValueRules {
    static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    static func nonEmpty(_ text: String) -> Result<String, Problem> {
        text.isEmpty ? .failure(Problem("must not be empty")) : .success(text)
    }

    /// A `postgres://` (or `postgresql://`) URL; the store parses the rest when it connects.
    /// The message never repeats the value: it may hold a password.
    static func postgresURL(_ text: String) -> Result<String, Problem> {
        guard text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") else {
            return .failure(Problem("must be a postgres://user:password@host:port/database URL"))
        }
        return .success(text)
    }

    static func host(_ text: String) -> Result<String, Problem> {
        if text.isEmpty { return .failure(Problem("must not be empty")) }
        if text.contains(where: { $0.isWhitespace || $0.isNewline || $0 == "/" }) {
            return .failure(Problem("\(quoted(text)) is not a host name or address"))
        }
        return .success(text)
    }

    static func port(_ text: String) -> Result<Int, Problem> {
        guard let number = WholeNumber.parse(text), number <= 65_535 else {
            return .failure(Problem("\(quoted(text)) is not a port number (0-65535)"))
        }
        return .success(Int(number))
    }

    /// Never repeats the token in a message.
    static func token(_ text: String) -> Result<String?, Problem> {
        if text.isEmpty {
            return .failure(Problem("must not be empty (leave http.token unset to disable authentication)"))
        }
        if text.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }) {
            return .failure(Problem("must not contain spaces or control characters"))
        }
        return .success(text)
    }

    /// `wholeSeconds` for values the protocol counts in seconds (MQTT keepalive and session
    /// expiry), so that `1500ms` is an error rather than silently cut to `1s`.
    static func duration(
        _ text: String,
        minimum: Duration,
        maximum: Duration? = nil,
        wholeSeconds: Bool = false
    ) -> Result<Duration, Problem> {
        guard let duration = DurationText.parse(text) else {
            return .failure(Problem("\(quoted(text)) is not a duration: expected \(DurationText.accepted)"))
        }
        guard duration >= minimum else {
            return .failure(Problem("\(quoted(text)) is too short: must be at least \(DurationText.format(minimum))"))
        }
        if let maximum, duration > maximum {
            return .failure(Problem("\(quoted(text)) is too long: must be at most \(DurationText.format(maximum))"))
        }
        if wholeSeconds, duration.components.attoseconds != 0 {
            return .failure(Problem("\(quoted(text)) is not a whole number of seconds"))
        }
        return .success(duration)
    }

    /// `true`/`false`, also `yes`/`no` and `1`/`0`, in any case.
    static func bool(_ text: String) -> Result<Bool, Problem> {
        switch text.lowercased() {
        case "true", "yes", "1": .success(true)
        case "false", "no", "0": .success(false)
        default: .failure(Problem("\(quoted(text)) is not a boolean: expected true or false (also yes/no or 1/0)"))
        }
    }

    static func size(_ text: String, within range: ClosedRange<Int>, rangeText: String) -> Result<Int, Problem> {
        guard let bytes = ByteSize.parse(text) else {
            return .failure(Problem("\(quoted(text)) is not a size: expected \(ByteSize.accepted)"))
        }
        guard range.contains(bytes) else {
            return .failure(Problem("\(quoted(text)) is out of range: must be \(rangeText)"))
        }
        return .success(bytes)
    }

    static func count(_ text: String, within range: ClosedRange<Int>, what: String) -> Result<Int, Problem> {
        guard let number = WholeNumber.parse(text), let value = Int(exactly: number), range.contains(value) else {
            return .failure(Problem("\(quoted(text)) is not a valid \(what): expected a whole number from \(range.lowerBound) to \(range.upperBound)"))
        }
        return .success(value)
    }

    static func choice<Choice: RawRepresentable & CaseIterable>(
        _ text: String,
        of type: Choice.Type,
        what: String
    ) -> Result<Choice, Problem> where Choice.RawValue == String {
        guard let value = Choice(rawValue: text.lowercased()) else {
            let names = Choice.allCases.map(\.rawValue).joined(separator: ", ")
            return .failure(Problem("\(quoted(text)) is not a \(what): expected one of \(names)"))
        }
        return .success(value)
    }

    static func mqttProtocol(_ text: String) -> Result<MQTTProtocol, Problem> {
        guard let value = MQTTProtocol(text: text) else {
            return .failure(Problem("\(quoted(text)) is not an MQTT protocol version: expected 5 or 3.1.1 (also written 311)"))
        }
        return .success(value)
    }

    static func clientID(_ text: String) -> Result<String, Problem> {
        if text.isEmpty { return .failure(Problem("must not be empty")) }
        guard text.unicodeScalars.allSatisfy(MQTTClientID.isAllowed) else {
            return .failure(Problem("\(quoted(text)) is not a valid client ID: use only A-Z, a-z, 0-9, '.', '_' and '-'"))
        }
        guard text.unicodeScalars.count <= MQTTClientID.maximumLength else {
            return .failure(Problem("\(quoted(text)) is too long: a client ID has at most \(MQTTClientID.maximumLength) characters"))
        }
        return .success(text)
    }

    /// An MQTT 5 share name: not empty, no `/`, `+` or `#` (it is one level of `$share/NAME/…`).
    static func shareName(_ text: String) -> Result<String, Problem> {
        if text.isEmpty { return .failure(Problem("must not be empty")) }
        guard !text.contains(where: { $0 == "/" || $0 == "+" || $0 == "#" || $0 == "\0" }) else {
            return .failure(Problem("\(quoted(text)) is not a share name: it may not contain '/', '+', '#' or NUL"))
        }
        return .success(text)
    }

    /// In the order given; empty lists, empty items and duplicates are rejected. Text is a
    /// comma-separated list (`sensors/#,alerts/+/high`, spaces around items dropped); a
    /// filter containing a comma can only be given as a YAML list in the file.
    static func topicFilters(_ raw: RawValue) -> Result<[String], Problem> {
        let items = listItems(raw)
        if items.isEmpty || items == [""] { return .failure(Problem("must list at least one topic filter (e.g. sensors/#)")) }
        for item in items where item.isEmpty {
            return .failure(Problem("has an empty item in \(quoted(items.joined(separator: ",")))"))
        }
        var seen: Set<String> = []
        for item in items {
            switch TopicFilter.problem(in: item) {
            case .tooLong?:
                return .failure(Problem("has a topic filter longer than \(TopicFilter.maximumBytes) bytes"))
            case let reason?:
                // A NUL is shown as \0 so the message stays one printable line.
                let shown = quoted(item).replacingOccurrences(of: "\0", with: "\\0")
                return .failure(Problem("\(shown) is not a valid topic filter: \(reason.text)"))
            case nil:
                break
            }
            if !seen.insert(item).inserted {
                return .failure(Problem("lists the same topic filter twice (\(quoted(item)))"))
            }
        }
        return .success(items)
    }

    /// The items of a list value: a YAML list as is, text split at commas and trimmed.
    private static func listItems(_ raw: RawValue) -> [String] {
        switch raw {
        case .text(let text):
            text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        case .list(let list):
            list
        }
    }

    static func mqttURL(_ text: String) -> Result<MQTTURL, Problem> {
        MQTTURL.parse(text).mapError { Problem("\(quoted(MQTTURL.masked(text))) \($0.reason)") }
    }

    /// Finest first; empty lists, empty items and duplicates (`60s` and `1m`) are rejected.
    /// Text is a comma-separated list (`10s,1m,1h`, spaces around items allowed).
    static func resolutions(_ raw: RawValue) -> Result<[Resolution], Problem> {
        let items = listItems(raw)
        if items.isEmpty || items == [""] { return .failure(Problem("must list at least one resolution (e.g. 10s,1m,1h)")) }
        for item in items where item.isEmpty {
            return .failure(Problem("has an empty item in \(quoted(items.joined(separator: ",")))"))
        }
        var parsed: [(text: String, resolution: Resolution)] = []
        for item in items {
            guard let resolution = try? Resolution(parsing: item) else {
                return .failure(Problem(
                    "\(quoted(item)) is not a resolution: expected a whole number followed by s, m, h or d, up to 3650d (e.g. 10s, 1m, 1h, 1d)"
                ))
            }
            if let earlier = parsed.first(where: { $0.resolution == resolution }) {
                return .failure(Problem("lists the same resolution twice (\(quoted(earlier.text)) and \(quoted(item)))"))
            }
            parsed.append((item, resolution))
        }
        return .success(parsed.map(\.resolution).sorted())
    }

    /// `resolution=duration` items (`10s=7d,1m=90d`), each resolution at most once, each
    /// duration at least one second.
    static func retention(_ raw: RawValue) -> Result<[Resolution: Duration], Problem> {
        var result: [Resolution: Duration] = [:]
        for item in listItems(raw) where !item.isEmpty {
            let parts = item.split(separator: "=", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, let resolution = try? Resolution(parsing: parts[0]), let kept = DurationText.parse(parts[1]) else {
                return .failure(Problem("\(quoted(item)) is not resolution=duration (e.g. 10s=7d,1m=90d,1h=1825d)"))
            }
            guard kept >= .seconds(1) else { return .failure(Problem("\(quoted(item)): a retention must be at least 1s")) }
            guard result[resolution] == nil else { return .failure(Problem("names \(resolution) twice")) }
            result[resolution] = kept
        }
        return .success(result)
    }
}
