internal import Glibc
internal import SensorCore

/// Appends records to one shard's journal. Not thread-safe: its owner (``ShardIngress``)
/// calls it under its lock, which also keeps journal order equal to queue order.
final class JournalWriter {
    let directory: String
    private let segmentBytes: Int64
    private let sync: JournalConfiguration.SyncPolicy
    /// Shard journal offset just past the last complete record.
    private(set) var position: Int64
    /// Start positions of this shard's segment files, ascending; the last is being written.
    private var segments: [Int64]
    private var descriptor: Int32 = -1
    private var segmentStart: Int64 = 0
    private var buffer: [UInt8] = []
    /// The first failed sync: from then on every append fails with it (see
    /// ``JournalError/isFatal``).
    private var fatal: JournalError?

    /// Opens the shard's journal for appending at `position`, in a new segment file, after
    /// the segments already in `directory` (replayed before; deleted once a checkpoint
    /// covers them).
    init(directory: String, position: Int64, segmentBytes: Int64, sync: JournalConfiguration.SyncPolicy) throws(JournalError) {
        self.directory = directory
        self.segmentBytes = segmentBytes
        self.sync = sync
        self.position = position
        try SegmentFiles.makeDirectory(directory)
        self.segments = try SegmentFiles.list(in: directory).filter { $0 < position }
        try openSegment()
    }

    deinit {
        if descriptor >= 0 { Glibc.close(descriptor) }
    }

    /// Writes one record holding `readings`; returns the position just past it. On failure
    /// the segment is cut back to where it was, so no partial record stays behind.
    func append(_ readings: [Reading], mark: BatchMark? = nil) throws(JournalError) -> Int64 {
        if let fatal { throw fatal }
        // Rotation happens before an append, never after: the last record written is then
        // always in the open segment, where ``rollBack(to:)`` can cut it.
        if descriptor >= 0, position - segmentStart >= segmentBytes { closeSegment() }
        if let fatal { throw fatal }
        if descriptor < 0 { try openSegment() }
        buffer.removeAll(keepingCapacity: true)
        JournalRecord.encode(readings, mark: mark, into: &buffer)
        guard buffer.count - JournalRecord.headerSize <= JournalRecord.maximumPayload else {
            // limits.max_readings_per_payload keeps records far below this; never write one
            // that replay would take for damage.
            throw JournalError(operation: "append to", path: segmentPath(segmentStart), reason: "a record of \(buffer.count) bytes is larger than replay accepts (\(JournalRecord.maximumPayload) bytes)")
        }
        let written = buffer.withUnsafeBytes { bytes -> Int32 in
            var offset = 0
            while offset < bytes.count {
                let result = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if result < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += result
            }
            return 0
        }
        if written != 0 {
            discardPartialWrite()
            throw JournalError(operation: "append to", path: segmentPath(segmentStart), reason: SystemError.text(written))
        }
        if sync == .always, fdatasync(descriptor) != 0 {
            let error = JournalError(operation: "sync", path: segmentPath(segmentStart), reason: SystemError.text(errno), isFatal: true)
            fatal = error
            throw error
        }
        position += Int64(buffer.count)
        return position
    }

    /// Cuts the records after `earlier` (a position this writer returned, in the open
    /// segment) off the journal: an append that a failure elsewhere made void.
    func rollBack(to earlier: Int64) throws(JournalError) {
        guard earlier < position else { return }
        guard descriptor >= 0, earlier >= segmentStart else {
            throw JournalError(operation: "roll back", path: segmentPath(segmentStart), reason: "position \(earlier) is not in the open segment")
        }
        guard ftruncate(descriptor, off_t(earlier - segmentStart)) == 0 else {
            // The record stays (and will be replayed): the caller reports the double fault.
            let code = errno
            throw JournalError(operation: "roll back", path: segmentPath(segmentStart), reason: SystemError.text(code))
        }
        position = earlier
        // The cut record must not come back after a power loss, counted though refused.
        if sync != .never, fdatasync(descriptor) != 0 {
            let error = JournalError(operation: "sync", path: segmentPath(segmentStart), reason: SystemError.text(errno), isFatal: true)
            fatal = error
            throw error
        }
    }

    /// Stops this writer for good after a sync failed elsewhere (the interval syncer).
    func fail(_ error: JournalError) {
        if fatal == nil { fatal = error }
    }

    /// A duplicate of the open segment's descriptor, for syncing outside the owner's lock
    /// (the caller closes it); nil when no segment is open.
    func duplicateDescriptor() -> Int32? {
        guard descriptor >= 0 else { return nil }
        let copy = dup(descriptor)
        return copy >= 0 ? copy : nil
    }

    /// Bytes in the segments still on disk.
    var retainedBytes: Int64 { position - (segments.first ?? position) }

    /// Deletes the segments whose every record lies at or before `checkpoint` (never the
    /// one being written). Returns the paths it could not delete, with the reason.
    func removeSegments(coveredBy checkpoint: Int64) -> [String] {
        var failures: [String] = []
        var removed = false
        while segments.count > 1, segments[1] <= checkpoint {
            let path = segmentPath(segments[0])
            if unlink(path) != 0, errno != ENOENT {
                failures.append("\(path): \(SystemError.text(errno))")
                break
            }
            segments.removeFirst()
            removed = true
        }
        // Not needed for correctness (a deleted segment that comes back lies behind the
        // checkpoint and is skipped), but it keeps the directory as the journal says.
        if removed, sync != .never {
            do { try SegmentFiles.syncDirectory(directory) } catch { failures.append(error.description) }
        }
        return failures
    }

    /// The file of the segment starting at `start`. Formatted only when needed (opening a
    /// segment, an error): an MQTT message per record made it a string per reading.
    private func segmentPath(_ start: Int64) -> String {
        "\(directory)/\(SegmentFiles.name(startingAt: start))"
    }

    private func openSegment() throws(JournalError) {
        let path = segmentPath(position)
        let opened = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard opened >= 0 else {
            throw JournalError(operation: "open", path: path, reason: SystemError.text(errno))
        }
        // An existing file here can only be an empty segment a crash left before its first
        // record (replay ended at its start); one holding data is never written over.
        let size = lseek(opened, 0, SEEK_END)
        guard size == 0 else {
            let reason = size < 0 ? SystemError.text(errno) : "it already holds \(size) bytes of records"
            Glibc.close(opened)
            throw JournalError(operation: "start segment", path: path, reason: reason)
        }
        descriptor = opened
        segmentStart = position
        if segments.last != position { segments.append(position) }
        // Records synced into a file whose directory entry is not would be lost with it.
        if sync != .never {
            do {
                try SegmentFiles.syncDirectory(directory)
            } catch {
                fatal = error
                throw error
            }
        }
    }

    /// Closes the full segment; the append that follows opens the next one.
    private func closeSegment() {
        // The interval syncer only knows the open segment: sync this one before leaving it.
        if case .interval = sync, fdatasync(descriptor) != 0 {
            fatal = JournalError(operation: "sync", path: segmentPath(segmentStart), reason: SystemError.text(errno), isFatal: true)
        }
        Glibc.close(descriptor)
        descriptor = -1
    }

    /// Cuts the open segment back to the last complete record; if even that fails, the
    /// segment is abandoned with the junk at its end (replay skips it) and the next append
    /// starts a new file past it, so positions stay unique.
    private func discardPartialWrite() {
        guard ftruncate(descriptor, off_t(position - segmentStart)) != 0 else {
            if sync != .never, fdatasync(descriptor) != 0 {
                fatal = JournalError(operation: "sync", path: segmentPath(segmentStart), reason: SystemError.text(errno), isFatal: true)
            }
            return
        }
        let end = lseek(descriptor, 0, SEEK_END)
        position = max(position + 1, end > 0 ? segmentStart + Int64(end) : 0)
        Glibc.close(descriptor)
        descriptor = -1
    }
}
