/// A device or metric glob (`*`, `?`, `[…]`, as SQLite's GLOB and fnmatch read them) as
/// an anchored POSIX regular expression for PostgreSQL's `~`, so both stores select the
/// same series.
enum GlobPattern {
    static func regex(_ glob: String) -> String {
        var regex = "^"
        // The members of the open class so far; nil outside a class.
        var classMembers: String?
        for character in glob {
            if let members = classMembers {
                // A `]` first in a class (`[]x]`, `[^]x]`) is a member, in GLOB as in POSIX.
                if character == "]", !members.isEmpty, members != "^" {
                    classMembers = nil
                } else {
                    classMembers = members + String(character)
                }
                if character == "\\" { regex += "\\\\" } else { regex.append(character) }
                continue
            }
            switch character {
            case "*": regex += ".*"
            case "?": regex += "."
            case "[":
                classMembers = ""
                regex.append(character)
            case ".", "^", "$", "+", "(", ")", "{", "}", "|", "\\", "]":
                regex += "\\" + String(character)
            default:
                regex.append(character)
            }
        }
        // An unclosed class is a literal `[` to GLOB: match it literally here too.
        if classMembers != nil, let open = regex.lastIndex(of: "[") {
            regex.replaceSubrange(open...open, with: "\\[")
        }
        return regex + "$"
    }
}
