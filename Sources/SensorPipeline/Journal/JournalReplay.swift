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
            let bytes = try Self.readFile(path)
            var offset = max(0, Int(checkpoint - start))
            guard offset <= bytes.count else {
                summary.end = max(summary.end, start + Int64(bytes.count))
                continue
            }
            bytes.withUnsafeBytes { raw in
                while offset < raw.count {
                    if let (readings, mark, next) = Self.record(at: offset, in: raw) {
                        summary.records += 1
                        summary.readings += readings.count
                        handle(readings, mark, start + Int64(next))
                        offset = next
                        continue
                    }
                    guard let resume = Self.nextRecord(after: offset, in: raw) else {
                        let torn = raw.count - offset
                        if isNewest {
                            summary.tornBytes += torn
                            report("journal \(path): cut a torn record of \(torn) bytes at offset \(offset) (crash mid-write)")
                        } else {
                            summary.corruptRecords += 1
                            report("journal \(path): skipped \(torn) damaged bytes at offset \(offset) to the end of the segment")
                        }
                        break
                    }
                    summary.corruptRecords += 1
                    report("journal \(path): skipped a damaged record, \(resume - offset) bytes at offset \(offset)")
                    offset = resume
                }
            }
            if isNewest, offset < bytes.count {
                if truncate(path, off_t(offset)) != 0 {
                    throw JournalError(operation: "cut the torn tail of", path: path, reason: SystemError.text(errno))
                }
            }
            summary.end = max(summary.end, start + Int64(min(offset, bytes.count)))
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

    private static func readFile(_ path: String) throws(JournalError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw JournalError(operation: "open", path: path, reason: SystemError.text(errno))
        }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw JournalError(operation: "read", path: path, reason: SystemError.text(errno))
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
        }
    }
}
