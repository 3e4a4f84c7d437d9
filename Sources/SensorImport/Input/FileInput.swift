#if canImport(Glibc)
import Glibc
#endif

/// A file or stdin (`-`) read with plain `read(2)`, so memory stays one buffer whatever
/// the size. Knows its size when it is a regular file (for progress and ETA).
public final class FileInput: ByteInput {
    public let path: String
    /// Size in bytes of a regular file; nil for stdin or a pipe.
    public let size: Int64?
    /// Modification time of a regular file (seconds), to notice a changed file on resume.
    public let modified: Int64?
    private let descriptor: Int32
    private let ownsDescriptor: Bool
    /// Bytes already read by ``peekPrefix(_:)``, given back first.
    private var pending: [UInt8] = []
    public private(set) var fileBytesRead: Int64 = 0

    /// Opens `path`, or stdin for `-`.
    public init(path: String) throws(ImportInputError) {
        self.path = path
        if path == "-" {
            descriptor = 0
            ownsDescriptor = false
        } else {
            descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { throw ImportInputError(path: path, reason: Self.errorText(errno)) }
            ownsDescriptor = true
        }
        var status = stat()
        if fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG {
            size = Int64(status.st_size)
            modified = Int64(status.st_mtim.tv_sec)
        } else {
            size = nil
            modified = nil
        }
        if (status.st_mode & S_IFMT) == S_IFDIR {
            if ownsDescriptor { close(descriptor) }
            throw ImportInputError(path: path, reason: "is a directory")
        }
    }

    deinit {
        if ownsDescriptor { close(descriptor) }
    }

    /// The first `count` bytes (fewer at the end), without consuming them: what sniffs
    /// gzip and the format of stdin.
    public func peekPrefix(_ count: Int) throws(ImportInputError) -> [UInt8] {
        while pending.count < count {
            var chunk = [UInt8](repeating: 0, count: count - pending.count)
            let got = try chunk.withUnsafeMutableBytes { raw in
                Result { () throws(ImportInputError) -> Int in try readFile(into: raw) }
            }.get()
            if got == 0 { break }
            pending += chunk[..<got]
        }
        return Array(pending.prefix(count))
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(ImportInputError) -> Int {
        if !pending.isEmpty {
            let count = min(pending.count, buffer.count)
            pending.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: count) }
            pending.removeFirst(count)
            return count
        }
        return try readFile(into: buffer)
    }

    public func skip(to offset: Int64, from current: Int64) throws(ImportInputError) {
        guard offset > current else { return }
        // A regular file read from its start: the offset is the file's own (the bytes
        // peeked at are dropped, the seek goes past them).
        if size != nil, lseek(descriptor, off_t(offset), SEEK_SET) == off_t(offset) {
            pending.removeAll()
            fileBytesRead = offset
            return
        }
        try discard(offset - current, from: self)
    }

    private func readFile(into buffer: UnsafeMutableRawBufferPointer) throws(ImportInputError) -> Int {
        while true {
            let count = Glibc.read(descriptor, buffer.baseAddress, buffer.count)
            if count >= 0 {
                fileBytesRead += Int64(count)
                return count
            }
            if errno == EINTR { continue }
            throw ImportInputError(path: path, reason: Self.errorText(errno))
        }
    }

    static func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }
}

/// Reads and drops `count` bytes of `input`.
func discard(_ count: Int64, from input: any ByteInput) throws(ImportInputError) {
    var left = count
    var scratch = [UInt8](repeating: 0, count: 1 << 16)
    while left > 0 {
        let want = Int(min(left, Int64(scratch.count)))
        let got = try scratch.withUnsafeMutableBytes { raw in
            Result { () throws(ImportInputError) -> Int in try input.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[..<want])) }
        }.get()
        if got == 0 { return }
        left -= Int64(got)
    }
}
