/// An MQTT topic with placeholders, expanded per message: `{rule}`, `{device}`,
/// `{metric}` and (for forwarding) `{resolution}`. Device and metric names cannot hold
/// `/`, `+` or `#`, so an expanded topic never gains levels or wildcards.
public struct TopicTemplate: Sendable, Equatable, CustomStringConvertible {
    public let pattern: String

    /// The placeholders a template may use.
    public static let placeholders = ["rule", "device", "metric", "resolution"]

    /// A template, or why it cannot be one: empty, a wildcard (`+`, `#`), a NUL, an
    /// unknown or unclosed `{…}`, or a placeholder not in `allowed`.
    public init(_ pattern: String, allowed: [String] = TopicTemplate.placeholders) throws(TopicTemplateError) {
        guard !pattern.isEmpty else { throw TopicTemplateError("must not be empty") }
        guard !pattern.contains(where: { $0 == "+" || $0 == "#" || $0 == "\0" }) else {
            throw TopicTemplateError("\"\(pattern)\" holds a wildcard (+ or #) or NUL; a published topic names one topic")
        }
        var rest = Substring(pattern)
        while let open = rest.firstIndex(of: "{") {
            guard let close = rest[open...].firstIndex(of: "}") else {
                throw TopicTemplateError("\"\(pattern)\" has a { without its }")
            }
            let name = String(rest[rest.index(after: open)..<close])
            guard allowed.contains(name) else {
                throw TopicTemplateError("\"\(pattern)\" uses {\(name)}; placeholders here are \(allowed.map { "{\($0)}" }.joined(separator: ", "))")
            }
            rest = rest[rest.index(after: close)...]
        }
        guard pattern.utf8.count <= 65_535 else { throw TopicTemplateError("is longer than an MQTT topic may be (65,535 bytes)") }
        self.pattern = pattern
    }

    public var description: String { pattern }

    /// The topic with every placeholder replaced by its value.
    public func expand(_ values: [String: String]) -> String {
        var topic = ""
        var rest = Substring(pattern)
        // A template's braces were checked at init: each `{` has its `}`.
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            topic += rest[..<open]
            topic += values[String(rest[rest.index(after: open)..<close])] ?? ""
            rest = rest[rest.index(after: close)...]
        }
        return topic + rest
    }
}

public struct TopicTemplateError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
