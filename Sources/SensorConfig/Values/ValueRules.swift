internal import Foundation
internal import SensorCore

/// A value as a source holds it: text, or (only `store.resolutions` in the file) a list.
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
    private static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    static func nonEmpty(_ text: String) -> Result<String, Problem> {
        text.isEmpty ? .failure(Problem("must not be empty")) : .success(text)
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

    static func duration(_ text: String, minimum: Duration) -> Result<Duration, Problem> {
        guard let duration = DurationText.parse(text) else {
            return .failure(Problem("\(quoted(text)) is not a duration: expected \(DurationText.accepted)"))
        }
        guard duration >= minimum else {
            return .failure(Problem("\(quoted(text)) is too short: must be at least \(DurationText.format(minimum))"))
        }
        return .success(duration)
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

    static func mqttURL(_ text: String) -> Result<MQTTURL, Problem> {
        MQTTURL.parse(text).mapError { Problem("\(quoted(MQTTURL.masked(text))) \($0.reason)") }
    }

    /// Finest first; empty lists, empty items and duplicates (`60s` and `1m`) are rejected.
    /// Text is a comma-separated list (`10s,1m,1h`, spaces around items allowed).
    static func resolutions(_ raw: RawValue) -> Result<[Resolution], Problem> {
        let items: [String]
        switch raw {
        case .text(let text):
            items = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        case .list(let list):
            items = list
        }
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
}
