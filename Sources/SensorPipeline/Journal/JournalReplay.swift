internal import Glibc
internal import SensorCore

/// Reads one shard's journal from a checkpoint on, handing each intact record's readings
/// to the caller in order.
///
/// Damage is survivable by design: a record whose header, checksum or payload is wrong is
/// skipped by scanning for the next record magic with a valid checksum, and counted; bytes
/// at the end of the newest segment that hold no complete record (a crash mid-write) are
/// cut off the file. Neither stops the replay.
struct JournalReplay {
    struct Summary: Sendable {
        var records = 0
        var readings = 0
        /// Damaged stretches skipped in the middle of a segment.
        var corruptRecords = 0
        /// Bytes cut off the end of the newest segment (a torn last record).
        var tornBytes = 0
        /// Position just past the last byte kept: where appending may continue.
        var end: Int64 = 0
    }

    let directory: String

    /// Replays records ending after `checkpoint`. `handle` gets each record's readings, its
    /// batch mark if it has one, and the position just past it. `report` gets one line per skipped or cut stretch.
    func run(from checkpoint: Int64, report: (String) -> Void, handle: ([Reading], BatchMark?, Int64) -> Void) throws(JournalError) -> Summary {
        var summary = Summary(end: checkpoint)
        let starts = try SegmentFiles.list(in: directory)
        for (index, start) in starts.enumerated() {
            let isNewest = index == starts.count - 1
            if !isNewest, starts[index + 1] <= checkpoint { continue }
            let path = "\(directory)/\(SegmentFiles.name(startingAt: start))"
            // Only the bytes past the checkpoint: after a clean stop, none of the newest
            // segment's (up to `journal.segment_size`, read whole before: 50 MB of a restart's
            // 107 MB heap peak with 100,000 series).
            let skipped = max(0, checkpoint - start)
            let (bytes, size) = try Self.readFile(path, from: skipped)
            guard skipped <= size else {
                summary.end = max(summary.end, start + size)
                continue
            }
            let base = start + skipped
            var offset = 0
            bytes.withUnsafeBytes { raw in
                while offset < raw.count {
                    if let (readings, mark, next) = Self.record(at: offset, in: raw) {
                        summary.records += 1
                        summary.readings += readings.count
                        handle(readings, mark, base + Int64(next))
                        offset = next
                        continue
                    }
                    let at = skipped + Int64(offset)
                    guard let resume = Self.nextRecord(after: offset, in: raw) else {
                        let torn = raw.count - offset
                        if isNewest {
                            summary.tornBytes += torn
                            report("journal \(path): cut a torn record of \(torn) bytes at offset \(at) (crash mid-write)")
                        } else {
                            summary.corruptRecords += 1
                            report("journal \(path): skipped \(torn) damaged bytes at offset \(at) to the end of the segment")
                        }
                        break
                    }
                    summary.corruptRecords += 1
                    report("journal \(path): skipped a damaged record, \(resume - offset) bytes at offset \(at)")
                    offset = resume
                }
            }
            if isNewest, offset < bytes.count {
                if truncate(path, off_t(skipped) + off_t(offset)) != 0 {
                    throw JournalError(operation: "cut the torn tail of", path: path, reason: SystemError.text(errno))
                }
            }
            summary.end = max(summary.end, base + Int64(min(offset, bytes.count)))
        }
        return summary
    }

    /// The intact record at `offset` and the offset after it, or nil.
    static func record(at offset: Int, in bytes: UnsafeRawBufferPointer) -> ([Reading], BatchMark?, Int)? {
        guard offset + JournalRecord.headerSize <= bytes.count else { return nil }
        let magic = JournalRecord.uint32(at: offset, in: bytes)
        guard magic == JournalRecord.magic || magic == JournalRecord.markedMagic else { return nil }
        let length = Int(JournalRecord.uint32(at: offset + 4, in: bytes))
        let payloadStart = offset + JournalRecord.headerSize
        guard length <= JournalRecord.maximumPayload, payloadStart + length <= bytes.count else { return nil }
        let payload = UnsafeRawBufferPointer(rebasing: bytes[payloadStart..<(payloadStart + length)])
        guard CRC32C.checksum(payload) == JournalRecord.uint32(at: offset + 8, in: bytes),
              let (readings, mark) = JournalRecord.decodePayload(payload, marked: magic == JournalRecord.markedMagic)
        else { return nil }
        return (readings, mark, payloadStart + length)
    }

    /// The first offset after `offset` where an intact record starts, or nil.
    private static func nextRecord(after offset: Int, in bytes: UnsafeRawBufferPointer) -> Int? {
        var candidate = offset + 1
        while candidate + JournalRecord.headerSize <= bytes.count {
            if bytes[candidate] == 0x53, record(at: candidate, in: bytes) != nil { return candidate }
            candidate += 1
        }
        return nil
    }

    /// The file's bytes from `offset` on (none when it is shorter), and its size.
    private static func readFile(_ path: String, from offset: Int64) throws(JournalError) -> (bytes: [UInt8], size: Int64) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw JournalError(operation: "open", path: path, reason: SystemError.text(errno))
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw JournalError(operation: "stat", path: path, reason: SystemError.text(errno))
        }
        let size = Int64(status.st_size)
        guard offset < size else { return ([], size) }
        var bytes = [UInt8](repeating: 0, count: Int(size - offset))
        var filled = 0
        while filled < bytes.count {
            let count = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress! + filled, $0.count - filled, off_t(offset) + off_t(filled)) }
            if count < 0 {
                if errno == EINTR { continue }
                throw JournalError(operation: "read", path: path, reason: SystemError.text(errno))
            }
            // The file ended sooner than its size said (cut meanwhile): what was read.
            if count == 0 { break }
            filled += count
        }
        if filled < bytes.count { bytes.removeLast(bytes.count - filled) }
        return (bytes, size)
    }
}
