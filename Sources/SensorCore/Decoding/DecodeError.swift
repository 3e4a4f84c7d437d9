/// A payload that cannot be taken, with the first offending item.
///
/// `index` is the 0-based position of the item (array element, NDJSON line, SenML record,
/// non-empty line of line protocol); it is `nil` when the payload as a whole is unreadable
/// (not JSON at all, an empty body). `message` names the item and the problem, for people.
public struct DecodeError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: RejectReason
    public var index: Int?
    public var message: String

    public init(_ reason: RejectReason, index: Int?, _ message: String) {
        self.reason = reason
        self.index = index
        self.message = message
    }

    public var description: String { message }
}
