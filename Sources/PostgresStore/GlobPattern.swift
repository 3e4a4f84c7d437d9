/// A device or metric glob (`*`, `?`, `[…]`, as SQLite's GLOB and fnmatch read them) as
/// an anchored POSIX regular expression for PostgreSQL's `~`, so both stores select the
/// same series.
enum GlobPattern {
    /// Matches no name: a character before the start.
    static let matchesNothing = ".^"

    static func regex(_ glob: String) -> String {
        var regex = "^"
        // Where the open class's `[` is in `regex` (UTF-8 offset); nil outside a class.
        var classOpen: Int?
        for character in glob {
            if let open = classOpen {
                // A `]` first in a class (`[]x]`, `[^]x]`) is a member, in GLOB as in POSIX.
                let members = regex.utf8.dropFirst(open + 1)
                if character == "]", !members.isEmpty, !members.elementsEqual("^".utf8) { classOpen = nil }
                if character == "\\" { regex += "\\\\" } else { regex.append(character) }
                continue
            }
            switch character {
            case "*": regex += ".*"
            case "?": regex += "."
            case "[":
                classOpen = regex.utf8.count
                regex.append(character)
            case ".", "^", "$", "+", "(", ")", "{", "}", "|", "\\", "]":
                regex += "\\" + String(character)
            default:
                regex.append(character)
            }
        }
        // SQLite's GLOB matches nothing when a class is never closed.
        return classOpen == nil ? regex + "$" : matchesNothing
    }
}
