#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#elseif canImport(Darwin)
internal import Darwin
#endif

/// A pattern for device or metric names: `*`, `?` and `[…]`, case-sensitive, matched with
/// fnmatch(3) (names hold no `/`, and no leading `.` rule applies without flags). It reads
/// two patterns otherwise than SQLite's GLOB of the query routes: `[!…]` (fnmatch: not
/// these; GLOB: `!` or these, GLOB negates with `[^…]`) and `\` (fnmatch: an escape;
/// GLOB: a backslash). Aggregate queries pick pending series as GLOB does
/// (`AggregateQuery.selects`).
public struct NameGlob: Sendable, Equatable, CustomStringConvertible {
    public let pattern: String

    public init(_ pattern: String) {
        self.pattern = pattern
    }

    /// Every name.
    public static let any = NameGlob("*")

    public var description: String { pattern }

    /// Whether `name` matches; `*` alone matches everything without a call.
    public func matches(_ name: String) -> Bool {
        pattern == "*" || fnmatch(pattern, name, 0) == 0
    }
}
