import Foundation
import Testing
import SensorCore
@testable import SensorPipeline

// MARK: - Independent references

/// CRC-32C the slow way: bit by bit with the reflected Castagnoli polynomial.
private func bitwiseCRC32C(_ bytes: some Sequence<UInt8>) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
    }
    return ~crc
}

private func littleEndian32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
    (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << (8 * UInt32($1)) }
}

/// The size of the record holding `readings`, from the documented layout: a 12-byte header,
/// a u32 count, and per reading two length-prefixed names, value, timestamp, flag, [seq].
/// (Also used by DedupeAndRecoveryTests.)
func journalRecordSize(_ readings: [Reading]) -> Int {
    12 + 4 + readings.reduce(0) { total, reading in
        total + 1 + reading.device.utf8.count + 1 + reading.metric.utf8.count + 8 + 8 + 1 + (reading.seq == nil ? 0 : 8)
    }
}

/// The readings of record `index`: distinct per record so a missing record is visible.
private func recordReadings(_ index: Int) -> [Reading] {
    (0..<(1 + index % 4)).map { item in
        Reading(device: "dev-\(index)", metric: item % 2 == 0 ? "temp" : "humidity",
                value: Double(index * 100 + item) + 0.25, timestamp: 1_764_165_600_000_000 + Int64(index * 1_000 + item),
                seq: item == 2 ? nil : UInt64(index * 10 + item))
    }
}

/// A temporary folder, removed by ``remove()`` (also used by ShardIngressTests).
struct TemporaryDirectory {
    let url: URL
    var path: String { url.path }

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(at: url) }
}

/// Segment files in `directory` as (start, size), by start, read with FileManager.
/// (Also used by DedupeAndRecoveryTests.)
func journalSegments(in directory: String) throws -> [(start: Int64, size: Int)] {
    try FileManager.default.contentsOfDirectory(atPath: directory)
        .filter { $0.hasSuffix(".seg") }
        .map { name in
            let start = try #require(Int64(name.dropLast(4)), "segment name \(name)")
            let size = try #require(FileManager.default.attributesOfItem(atPath: "\(directory)/\(name)")[.size] as? Int)
            return (start, size)
        }
        .sorted { $0.start < $1.start }
}

private func segmentPath(_ directory: String, _ start: Int64) -> String {
    let digits = String(start)
    return "\(directory)/\(String(repeating: "0", count: 20 - digits.count))\(digits).seg"
}

/// Writes `count` records (``recordReadings``) and returns the position after each.
private func writeJournal(in directory: String, records count: Int, segmentBytes: Int64) throws -> [Int64] {
    let writer = try JournalWriter(directory: directory, position: 0, segmentBytes: segmentBytes, sync: .never)
    return try (0..<count).map { try writer.append(recordReadings($0)) }
}

/// Record boundaries computed from the layout alone: ends[i] is the position after record i.
private func expectedEnds(records count: Int) -> [Int64] {
    var position: Int64 = 0
    return (0..<count).map { index in
        position += Int64(journalRecordSize(recordReadings(index)))
        return position
    }
}

/// Segment starts the documented rotation gives: a new segment begins before an append
/// once the open one holds at least `segmentBytes`.
private func expectedSegmentStarts(ends: [Int64], segmentBytes: Int64) -> [Int64] {
    var starts: [Int64] = [0]
    var previous: Int64 = 0
    for end in ends {
        if previous - starts.last! >= segmentBytes { starts.append(previous) }
        previous = end
    }
    return starts
}

private struct Replayed {
    var records: [[Reading]] = []
    var positions: [Int64] = []
    var reports: [String] = []
    var summary = JournalReplay.Summary()
}

private func replay(_ directory: String, from checkpoint: Int64) throws -> Replayed {
    var replayed = Replayed()
    replayed.summary = try JournalReplay(directory: directory).run(from: checkpoint) { line in
        replayed.reports.append(line)
    } handle: { readings, _, position in
        replayed.records.append(readings)
        replayed.positions.append(position)
    }
    return replayed
}

/// XORs one byte of the journal at shard position `position` (located via the file names).
private func flipByte(in directory: String, atPosition position: Int64, with mask: UInt8 = 0x5A) throws {
    let start = try #require(try journalSegments(in: directory).last { $0.start <= position }?.start)
    let path = segmentPath(directory, start)
    var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    let offset = Int(position - start)
    try #require(offset < bytes.count, "position \(position) lies past the end of \(path)")
    bytes[offset] ^= mask
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// The ingest journal: checksum, record format, writer and replay, one nested suite each.
@Suite struct JournalTests {
    // MARK: - CRC32C

    @Suite struct CRC32CTests {
        @Test func knownVectors() {
            #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
            #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
            // RFC 3720 (iSCSI) B.4.
            #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
            #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
            #expect(CRC32C.checksum((0..<32).reversed().map { UInt8($0) }) == 0x113F_DB5C)
            #expect(CRC32C.checksum([]) == 0)
            // The reference agrees with the same vectors, so it is a fair judge below.
            #expect(bitwiseCRC32C(Array("123456789".utf8)) == 0xE306_9283)
        }

        /// Both ways, the CPU's instruction (where this machine has it) and the tables.
        @Test func theInstructionAndTheTablesMatchTheBitwiseReference() {
            var generator = SeededGenerator(seed: 0xC3C)
            for length in 0...300 {
                let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                let expected = bitwiseCRC32C(bytes)
                #expect(CRC32C.checksum(bytes) == expected, "length \(length)")
                #expect(bytes.withUnsafeBytes { CRC32C.tableChecksum($0) } == expected, "length \(length), tables")
                // The same bytes at an odd offset inside a larger buffer (unaligned loads).
                let shift = Int.random(in: 1...7, using: &generator)
                let padded = [UInt8](repeating: 0xAB, count: shift) + bytes + [0xCD, 0xEF]
                padded.withUnsafeBytes { buffer in
                    let inner = UnsafeRawBufferPointer(rebasing: buffer[shift..<(shift + length)])
                    #expect(CRC32C.checksum(inner) == expected, "length \(length) at offset \(shift)")
                    #expect(CRC32C.tableChecksum(inner) == expected, "length \(length) at offset \(shift), tables")
                }
            }
        }
    }

    // MARK: - Records

    @Suite struct RecordTests {
        let readings = [
            Reading(device: "greenhouse-1", metric: "temp", value: 21.5, timestamp: 1_764_165_600_250_000, seq: 1),
            Reading(device: "g", metric: "m", value: -0.0, timestamp: -1, seq: nil),
            Reading(device: String(repeating: "d", count: 128), metric: "x.y_z", value: .greatestFiniteMagnitude, timestamp: .max, seq: .max),
            Reading(device: "a", metric: "b", value: -.leastNonzeroMagnitude, timestamp: .min, seq: 0),
        ]

        @Test func encodesTheDocumentedLayoutAndDecodesBack() throws {
            var buffer: [UInt8] = [9, 9, 9] // whatever is already in the buffer stays
            JournalRecord.encode(readings, into: &buffer)
            #expect(Array(buffer.prefix(3)) == [9, 9, 9])
            let record = Array(buffer.dropFirst(3))
            #expect(record.count == journalRecordSize(readings), "record size")
            #expect(Array(record.prefix(4)) == Array("SHJ1".utf8), "magic")
            let length = Int(littleEndian32(record, at: 4))
            #expect(length == record.count - 12, "length field")
            let payload = Array(record.dropFirst(12))
            #expect(littleEndian32(record, at: 8) == bitwiseCRC32C(payload), "checksum field")
            #expect(littleEndian32(payload, at: 0) == UInt32(readings.count), "count")
            // The first reading spelled out byte by byte.
            var first: [UInt8] = [12] + Array("greenhouse-1".utf8) + [4] + Array("temp".utf8)
            first += withUnsafeBytes(of: (21.5).bitPattern.littleEndian, Array.init)
            first += withUnsafeBytes(of: Int64(1_764_165_600_250_000).littleEndian, Array.init)
            first += [1] + withUnsafeBytes(of: UInt64(1).littleEndian, Array.init)
            #expect(Array(payload[4..<(4 + first.count)]) == first)

            let decoded = try #require(payload.withUnsafeBytes { JournalRecord.decodePayload($0, marked: false) }?.readings)
            #expect(decoded == readings)
            #expect(decoded.map(\.value.bitPattern) == readings.map(\.value.bitPattern), "values keep their exact bits (-0.0)")
        }

        @Test func emptyBatchIsARecordOfZeroReadings() throws {
            var buffer: [UInt8] = []
            JournalRecord.encode([], into: &buffer)
            #expect(buffer.count == 16)
            let decoded = try #require(buffer.dropFirst(12).withUnsafeBytes { JournalRecord.decodePayload($0, marked: false) })
            #expect(decoded.readings.isEmpty)
            #expect(decoded.mark == nil)
        }

        @Test func aRecordOfAnIdentifiedBatchKeepsItsMark() throws {
            let mark = BatchMark(identity: try #require(BatchIdentity(stream: "import-7f3a", ordinal: 41)), part: BatchPart(shards: 4, index: 3))
            var buffer: [UInt8] = []
            JournalRecord.encode(readings, mark: mark, into: &buffer)
            #expect(Array(buffer.prefix(4)) == Array("SHJ2".utf8), "magic of a marked record")
            let decoded = try #require(buffer.dropFirst(12).withUnsafeBytes { JournalRecord.decodePayload($0, marked: true) })
            #expect(decoded.readings == readings)
            #expect(decoded.mark == mark)
            let replayed = try #require(buffer.withUnsafeBytes { JournalReplay.record(at: 0, in: $0) })
            #expect(replayed.1 == mark)
            #expect(replayed.2 == buffer.count)
            // A part index outside its shard count is damage.
            var bad = buffer
            bad[12 + 1 + 11 + 8 + 2] = 9
            #expect(bad.dropFirst(12).withUnsafeBytes { JournalRecord.decodePayload($0, marked: true) } == nil)
        }

        @Test func payloadsThatDoNotParseDecodeToNil() {
            var buffer: [UInt8] = []
            JournalRecord.encode(readings, into: &buffer)
            let payload = Array(buffer.dropFirst(12))
            func decodes(_ bytes: [UInt8]) -> Bool { bytes.withUnsafeBytes { JournalRecord.decodePayload($0, marked: false) } != nil }
            #expect(decodes(payload))
            for cut in [1, 8, payload.count - 5, payload.count - 1] {
                #expect(!decodes(Array(payload.prefix(cut))), "payload cut to \(cut) bytes")
            }
            #expect(!decodes(payload + [0]), "a trailing byte")
            var badFlag = payload
            badFlag[4 + 1 + 12 + 1 + 4 + 16] = 2 // first reading's seq flag
            #expect(!decodes(badFlag), "seq flag 2")
            var emptyName = payload
            emptyName[4] = 0 // first device name length
            #expect(!decodes(emptyName), "empty device name")
            var hugeCount = payload
            hugeCount[3] = 0xFF
            #expect(!decodes(hugeCount), "count larger than the payload")
            // Names a decoder would refuse never come out of the journal (found by fuzzing:
            // invalid UTF-8 read back as longer names than the record can hold).
            for byte: UInt8 in [0x83, 0x20, 0x2F] {
                var badName = payload
                badName[5] = byte // first byte of the first device name
                #expect(!decodes(badName), "device name with byte \(byte)")
            }
        }
    }

    // MARK: - Writer

    @Suite struct WriterTests {
        @Test func appendsReturnRecordEndsAndRotateBySegmentBytes() throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let segmentBytes: Int64 = 300
            let ends = try writeJournal(in: directory.path, records: 25, segmentBytes: segmentBytes)
            #expect(ends == expectedEnds(records: 25))

            let files = try journalSegments(in: directory.path)
            let starts = expectedSegmentStarts(ends: ends, segmentBytes: segmentBytes)
            #expect(starts.count > 3, "the test must rotate several times")
            #expect(files.map(\.start) == starts)
            for (index, file) in files.enumerated() {
                let end = index + 1 < files.count ? files[index + 1].start : ends.last!
                #expect(Int64(file.size) == end - file.start, "segment \(file.start) size")
            }
            // The files concatenated are exactly the records encoded one after another.
            var expected: [UInt8] = []
            for index in 0..<25 { JournalRecord.encode(recordReadings(index), into: &expected) }
            var actual: [UInt8] = []
            for file in files { actual += try [UInt8](Data(contentsOf: URL(fileURLWithPath: segmentPath(directory.path, file.start)))) }
            #expect(actual == expected)
        }

        @Test func aSegmentSmallerThanOneRecordHoldsOneRecordEach() throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let ends = try writeJournal(in: directory.path, records: 5, segmentBytes: 1)
            #expect(try journalSegments(in: directory.path).map(\.start) == [0] + ends.dropLast())
        }

        @Test func rollBackCutsTheLastAppendAndAppendingGoesOn() throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let writer = try JournalWriter(directory: directory.path, position: 0, segmentBytes: 1 << 20, sync: .never)
            let first = try writer.append(recordReadings(0))
            let second = try writer.append(recordReadings(1))
            try writer.rollBack(to: first)
            #expect(writer.position == first)
            #expect(try journalSegments(in: directory.path).map(\.size) == [Int(first)])
            try writer.rollBack(to: second) // later than the position: nothing to cut
            #expect(writer.position == first)
            let third = try writer.append(recordReadings(2))
            #expect(third == first + Int64(journalRecordSize(recordReadings(2))))
            let replayed = try replay(directory.path, from: 0)
            #expect(replayed.records == [recordReadings(0), recordReadings(2)])
            #expect(replayed.positions == [first, third])
        }

        @Test func rollBackAcrossARotationCutsTheNewSegmentToEmpty() throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let writer = try JournalWriter(directory: directory.path, position: 0, segmentBytes: 1, sync: .never)
            let first = try writer.append(recordReadings(0))
            _ = try writer.append(recordReadings(1)) // rotated: a new segment at `first`
            try writer.rollBack(to: first)
            #expect(try journalSegments(in: directory.path).map(\.size) == [Int(first), 0])
            // Into the segment before the open one: refused, nothing changes.
            #expect(throws: JournalError.self) { try writer.rollBack(to: 0) }
            #expect(writer.position == first)
            let again = try writer.append(recordReadings(3))
            #expect(try replay(directory.path, from: 0).records == [recordReadings(0), recordReadings(3)])
            #expect(again == first + Int64(journalRecordSize(recordReadings(3))))
        }

        @Test func removeSegmentsDeletesOnlyThoseWhollyCovered() throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let writer = try JournalWriter(directory: directory.path, position: 0, segmentBytes: 1, sync: .never)
            let ends = try (0..<6).map { try writer.append(recordReadings($0)) }
            // Segments start at 0, ends[0], ..., ends[4]; the last one is open.
            #expect(try journalSegments(in: directory.path).map(\.start) == [0] + ends.dropLast())
            #expect(writer.removeSegments(coveredBy: ends[1] - 1).isEmpty)
            // Segment 0 = [0, ends[0]) lies before the checkpoint: deleted; segment ends[0]
            // holds bytes after it (the checkpoint is inside): kept.
            #expect(try journalSegments(in: directory.path).map(\.start) == Array(ends.dropLast()))
            #expect(writer.removeSegments(coveredBy: ends[2]).isEmpty)
            #expect(try journalSegments(in: directory.path).map(\.start) == Array(ends[2...].dropLast()))
            // A checkpoint past everything never deletes the open segment.
            #expect(writer.removeSegments(coveredBy: .max).isEmpty)
            #expect(try journalSegments(in: directory.path).map(\.start) == [ends[4]])
            // Replay from the checkpoint still finds the records after it.
            #expect(try replay(directory.path, from: ends[4]).records == [recordReadings(5)])
        }

        @Test func reopeningContinuesInANewSegmentAndRefusesToOverwriteData() throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let ends = try writeJournal(in: directory.path, records: 3, segmentBytes: 1 << 20)
            let reopened = try JournalWriter(directory: directory.path, position: ends[2], segmentBytes: 1 << 20, sync: .never)
            let fourth = try reopened.append(recordReadings(3))
            #expect(try journalSegments(in: directory.path).map(\.start) == [0, ends[2]])
            #expect(try replay(directory.path, from: 0).positions == ends + [fourth])
            // Opening where a segment with records already starts would write over it.
            #expect(throws: JournalError.self) {
                _ = try JournalWriter(directory: directory.path, position: ends[2], segmentBytes: 1 << 20, sync: .never)
            }
            // An empty segment at the position (a crash before its first record) is reused.
            let empty = try TemporaryDirectory()
            defer { empty.remove() }
            try #require(FileManager.default.createFile(atPath: segmentPath(empty.path, 500), contents: Data()))
            let writer = try JournalWriter(directory: empty.path, position: 500, segmentBytes: 1 << 20, sync: .never)
            #expect(try writer.append(recordReadings(0)) == 500 + Int64(journalRecordSize(recordReadings(0))))
            #expect(try journalSegments(in: empty.path).map(\.start) == [500])
        }
    }

    // MARK: - Replay

    @Suite struct ReplayTests {
        static let count = 30
        static let segmentBytes: Int64 = 400

        @Test func replaysEverySegmentInOrderFromZero() throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let ends = try writeJournal(in: directory.path, records: Self.count, segmentBytes: Self.segmentBytes)
            #expect(try journalSegments(in: directory.path).count > 4, "the journal must span several segments")
            let replayed = try replay(directory.path, from: 0)
            #expect(replayed.records == (0..<Self.count).map(recordReadings))
            #expect(replayed.positions == ends)
            #expect(replayed.summary.records == Self.count)
            #expect(replayed.summary.readings == (0..<Self.count).reduce(0) { $0 + recordReadings($1).count })
            #expect(replayed.summary.corruptRecords == 0 && replayed.summary.tornBytes == 0)
            #expect(replayed.summary.end == ends.last!)
            #expect(replayed.reports.isEmpty, "\(replayed.reports)")
        }

        @Test func replaysOnlyWhatLiesAfterACheckpoint() throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let ends = try writeJournal(in: directory.path, records: Self.count, segmentBytes: Self.segmentBytes)
            let starts = Set(try journalSegments(in: directory.path).map(\.start))
            // Checkpoints inside a segment, on a segment boundary, and at the very end.
            let inside = try #require(ends.indices.first { !starts.contains(ends[$0]) && $0 > 3 })
            let boundary = try #require(ends.indices.first { starts.contains(ends[$0]) && $0 > 3 })
            for index in [inside, boundary, Self.count - 1] {
                let replayed = try replay(directory.path, from: ends[index])
                #expect(replayed.records == ((index + 1)..<Self.count).map(recordReadings), "checkpoint after record \(index)")
                #expect(replayed.positions == Array(ends[(index + 1)...]))
                #expect(replayed.summary.end == ends.last!)
                #expect(replayed.summary.corruptRecords == 0 && replayed.summary.tornBytes == 0)
            }
            // A checkpoint past the journal (its segments deleted): nothing, and end stays.
            let past = try replay(directory.path, from: ends.last! + 1_000)
            #expect(past.records.isEmpty && past.summary.end == ends.last! + 1_000)
        }

        @Test(arguments: [1, 5, 11])
        func tornTailIsCutAndNotFatal(missing: Int) throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let ends = try writeJournal(in: directory.path, records: Self.count, segmentBytes: Self.segmentBytes)
            let newest = try #require(try journalSegments(in: directory.path).last)
            let path = segmentPath(directory.path, newest.start)
            let handle = try #require(FileHandle(forWritingAtPath: path))
            try handle.truncate(atOffset: UInt64(newest.size - missing))
            try handle.close()

            let replayed = try replay(directory.path, from: 0)
            let lastComplete = ends[Self.count - 2]
            #expect(replayed.records == (0..<(Self.count - 1)).map(recordReadings), "all but the torn record")
            #expect(replayed.summary.tornBytes == journalRecordSize(recordReadings(Self.count - 1)) - missing)
            #expect(replayed.summary.corruptRecords == 0)
            #expect(replayed.summary.end == lastComplete)
            #expect(replayed.reports.count == 1)
            let cut = try #require(try journalSegments(in: directory.path).last)
            #expect(Int64(cut.size) == lastComplete - newest.start, "the file is cut to the end of the last complete record")

            // A second replay finds a clean journal, and a writer can continue at its end.
            let again = try replay(directory.path, from: 0)
            #expect(again.summary.tornBytes == 0 && again.records.count == Self.count - 1)
            let writer = try JournalWriter(directory: directory.path, position: again.summary.end, segmentBytes: Self.segmentBytes, sync: .never)
            _ = try writer.append(recordReadings(99))
            #expect(try replay(directory.path, from: 0).records == (0..<(Self.count - 1)).map(recordReadings) + [recordReadings(99)])
        }

        @Test func aNewestSegmentHoldingOnlyATornRecordIsCutToEmpty() throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let ends = try writeJournal(in: directory.path, records: 4, segmentBytes: 1)
            let handle = try #require(FileHandle(forWritingAtPath: segmentPath(directory.path, ends[2])))
            try handle.truncate(atOffset: 7)
            try handle.close()
            let replayed = try replay(directory.path, from: 0)
            #expect(replayed.records == (0..<3).map(recordReadings))
            #expect(replayed.summary.tornBytes == 7 && replayed.summary.end == ends[2])
            #expect(try journalSegments(in: directory.path).last?.size == 0)
        }

        /// Where inside record `index` a byte is flipped: offset from the record's start.
        enum Damage: String, CaseIterable, CustomTestStringConvertible {
            case magic, lengthLow, lengthHigh, checksum, payloadCount, payloadName, payloadLastByte
            var testDescription: String { rawValue }

            func offset(recordSize: Int) -> Int {
                switch self {
                case .magic: 1
                case .lengthLow: 4
                case .lengthHigh: 6
                case .checksum: 9
                case .payloadCount: 12
                case .payloadName: 12 + 4 + 2
                case .payloadLastByte: recordSize - 1
                }
            }
        }

        @Test(arguments: Damage.allCases)
        func aDamagedMiddleRecordIsSkippedAndOnlyItsReadingsAreMissing(damage: Damage) throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let ends = try writeJournal(in: directory.path, records: Self.count, segmentBytes: Self.segmentBytes)
            let starts = Set(try journalSegments(in: directory.path).map(\.start))
            // A record in the middle of a middle segment: neither first nor last in its file.
            let victim = try #require((5..<(Self.count - 5)).first { !starts.contains(ends[$0 - 1]) && !starts.contains(ends[$0]) })
            let sizes = try journalSegments(in: directory.path).map(\.size)
            let size = journalRecordSize(recordReadings(victim))
            try flipByte(in: directory.path, atPosition: ends[victim - 1] + Int64(damage.offset(recordSize: size)))

            let replayed = try replay(directory.path, from: 0)
            let expected = (0..<Self.count).filter { $0 != victim }
            #expect(replayed.records == expected.map(recordReadings), "every record but \(victim)")
            #expect(replayed.positions == expected.map { ends[$0] })
            #expect(replayed.summary.corruptRecords == 1)
            #expect(replayed.summary.tornBytes == 0)
            #expect(replayed.summary.end == ends.last!)
            #expect(replayed.reports.count == 1, "\(replayed.reports)")
            #expect(try journalSegments(in: directory.path).map(\.size) == sizes, "damage in the middle cuts nothing")
        }

        @Test func aDamagedLastRecordOfAnOlderSegmentIsSkippedNotCut() throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let ends = try writeJournal(in: directory.path, records: Self.count, segmentBytes: Self.segmentBytes)
            let starts = try journalSegments(in: directory.path).map(\.start)
            // The record ending where the second segment begins is the last of the first.
            let victim = try #require(ends.firstIndex(of: starts[1]))
            let sizes = try journalSegments(in: directory.path).map(\.size)
            try flipByte(in: directory.path, atPosition: ends[victim] - 3)
            let replayed = try replay(directory.path, from: 0)
            #expect(replayed.records == (0..<Self.count).filter { $0 != victim }.map(recordReadings))
            #expect(replayed.summary.corruptRecords == 1 && replayed.summary.tornBytes == 0)
            #expect(try journalSegments(in: directory.path).map(\.size) == sizes)
        }

        @Test func twoDamagedRecordsInDifferentSegmentsAreBothSkipped() throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let ends = try writeJournal(in: directory.path, records: Self.count, segmentBytes: Self.segmentBytes)
            try flipByte(in: directory.path, atPosition: ends[2] + 20)
            try flipByte(in: directory.path, atPosition: ends[20] + 5)
            let replayed = try replay(directory.path, from: 0)
            #expect(replayed.records == (0..<Self.count).filter { $0 != 3 && $0 != 21 }.map(recordReadings))
            #expect(replayed.summary.corruptRecords == 2)
        }

        @Test func anEmptyOrMissingDirectoryReplaysNothing() throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let missing = try replay(directory.path + "/none", from: 42)
            #expect(missing.records.isEmpty && missing.summary.end == 42)
            _ = try JournalWriter(directory: directory.path, position: 0, segmentBytes: 1 << 20, sync: .never)
            let empty = try replay(directory.path, from: 0)
            #expect(empty.records.isEmpty && empty.summary.end == 0 && empty.summary.tornBytes == 0)
        }
    }
}
