internal import Glibc

/// Naming and listing of one shard's segment files: `<start position, 20 digits>.seg`,
/// where the start position is the shard's journal byte offset of the file's first byte.
enum SegmentFiles {
    static let suffix = ".seg"

    static func name(startingAt position: Int64) -> String {
        let digits = String(position)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + suffix
    }

    /// Start positions of the segment files in `directory`, ascending; empty when the
    /// directory does not exist.
    static func list(in directory: String) throws(JournalError) -> [Int64] {
        try entries(in: directory).compactMap { name in
            name.hasSuffix(suffix) ? Int64(name.dropLast(suffix.count)) : nil
        }.sorted()
    }

    /// Shard folders (`shard-<i>`) present under the journal directory, by index.
    static func shardIndices(in directory: String) throws(JournalError) -> [Int] {
        try entries(in: directory).compactMap { name in
            name.hasPrefix("shard-") ? Int(name.dropFirst("shard-".count)) : nil
        }.sorted()
    }

    /// Names in `directory`; empty when it does not exist.
    private static func entries(in directory: String) throws(JournalError) -> [String] {
        guard let handle = opendir(directory) else {
            if errno == ENOENT { return [] }
            throw JournalError(operation: "list", path: directory, reason: SystemError.text(errno))
        }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            names.append(withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            })
        }
        return names
    }

    static func shardDirectory(_ journal: String, shard: Int) -> String { "\(journal)/shard-\(shard)" }

    /// Makes the directory's entries durable: a segment created, renamed or deleted in it
    /// survives a power loss only once the directory itself is synced.
    static func syncDirectory(_ path: String) throws(JournalError) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw JournalError(operation: "open directory", path: path, reason: SystemError.text(errno)) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else {
            throw JournalError(operation: "sync directory", path: path, reason: SystemError.text(errno), isFatal: true)
        }
    }

    /// Creates `path` and its missing parents.
    static func makeDirectory(_ path: String) throws(JournalError) {
        var built = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            built += "/" + component
            if mkdir(built, 0o750) != 0, errno != EEXIST {
                throw JournalError(operation: "create directory", path: built, reason: SystemError.text(errno))
            }
        }
    }
}

enum SystemError {
    static func text(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
