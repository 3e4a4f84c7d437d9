/// A device or metric glob (`*`, `?`, `[…]`, as SQLite's GLOB and fnmatch read them) as
/// an anchored POSIX regular expression for PostgreSQL's `~`, so both stores select the
/// same series.
enum GlobPattern {
    static func regex(_ glob: String) -> String {
        var regex = "^"
        var inClass = false
        for character in glob {
            if inClass {
                if character == "]" { inClass = false }
                if character == "\\" { regex += "\\\\" } else { regex.append(character) }
                continue
            }
            switch character {
            case "*": regex += ".*"
            case "?": regex += "."
            case "[":
                inClass = true
                regex.append(character)
            case ".", "^", "$", "+", "(", ")", "{", "}", "|", "\\", "]":
                regex += "\\" + String(character)
            default:
                regex.append(character)
            }
        }
        // An unclosed class is a literal `[` to GLOB: match it literally here too.
        if inClass, let open = regex.lastIndex(of: "[") {
            regex.replaceSubrange(open...open, with: "\\[")
        }
        return regex + "$"
    }
}
