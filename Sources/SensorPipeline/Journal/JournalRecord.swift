internal import SensorCore

/// The on-disk form of one journal record: one append, i.e. the readings of one batch
/// for one shard.
///
/// ```
/// record  = magic u32 "SHJ1" | length u32 | crc32c u32 | payload (length bytes)
///         | magic u32 "SHJ2" | length u32 | crc32c u32 | mark | payload
/// mark    = stream len u8 | stream | ordinal u64 | shards u16 | part u16
/// payload = count u32 | count × reading
/// reading = device len u8 | device | metric len u8 | metric | value f64 bits u64
///           | ts µs i64 | has seq u8 | [seq u64]
/// ```
/// "SHJ2" is the record of a part of an identified batch (``BatchMark``), "SHJ1" of any
/// other. Integers are little-endian. The checksum covers everything after the header;
/// the magic lets replay find the next record after a damaged one.
enum JournalRecord {
    static let magic: UInt32 = 0x314A_4853 // "SHJ1" read as little-endian bytes
    static let markedMagic: UInt32 = 0x324A_4853 // "SHJ2"
    static let headerSize = 12
    /// A record larger than this is damage, not data (HTTP bodies are capped far below).
    static let maximumPayload = 256 << 20

    /// Appends the record for `readings` to `buffer`. A record whose payload is larger than
    /// ``maximumPayload`` cannot be replayed: the writer refuses it.
    ///
    /// The record is sized first and then written in place: appended field by field, the
    /// buffer's capacity and uniqueness were checked five times a reading.
    static func encode(_ readings: [Reading], mark: BatchMark? = nil, into buffer: inout [UInt8]) {
        let start = buffer.count
        var length = 4
        if let mark { length += 1 + mark.identity.stream.utf8.count + 8 + 2 + 2 }
        for reading in readings {
            length += 2 + reading.device.utf8.count + reading.metric.utf8.count + 17 + (reading.seq == nil ? 0 : 8)
        }
        buffer.append(contentsOf: repeatElement(0, count: headerSize + length))
        buffer.withUnsafeMutableBytes { bytes in
            let record = UnsafeMutableRawBufferPointer(rebasing: bytes[start...])
            var payload = RecordWriter(bytes: UnsafeMutableRawBufferPointer(rebasing: record[headerSize...]))
            if let mark {
                payload.name(mark.identity.stream)
                payload.integer(mark.identity.ordinal)
                payload.integer(mark.part.shards)
                payload.integer(mark.part.index)
            }
            payload.integer(UInt32(readings.count))
            for reading in readings {
                payload.name(reading.device)
                payload.name(reading.metric)
                payload.integer(reading.value.bitPattern)
                payload.integer(UInt64(bitPattern: reading.timestamp))
                if let seq = reading.seq {
                    payload.integer(UInt8(1))
                    payload.integer(seq)
                } else {
                    payload.integer(UInt8(0))
                }
            }
            assert(payload.offset == length, "record sized as written")
            var header = RecordWriter(bytes: record)
            header.integer(mark == nil ? magic : markedMagic)
            header.integer(UInt32(truncatingIfNeeded: length))
            header.integer(CRC32C.checksum(UnsafeRawBufferPointer(payload.bytes)))
        }
    }

    /// Decodes a payload whose checksum matched; nil when it does not parse (damage that
    /// the checksum could not see, or a record of a future format), which includes names
    /// that break the name rules: nothing a decoder would refuse comes out of the journal.
    static func decodePayload(_ payload: UnsafeRawBufferPointer, marked: Bool) -> (readings: [Reading], mark: BatchMark?)? {
        var reader = ByteReader(bytes: payload)
        var mark: BatchMark?
        if marked {
            guard let stream = reader.name(valid: { _ in true }), let ordinal = reader.uint64(),
                  let shards = reader.uint16(), let index = reader.uint16(), index < shards,
                  let identity = BatchIdentity(stream: stream, ordinal: ordinal)
            else { return nil }
            mark = BatchMark(identity: identity, part: BatchPart(shards: shards, index: index))
        }
        guard let count = reader.uint32(), count <= UInt32(payload.count) else { return nil }
        var readings: [Reading] = []
        readings.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let device = reader.name(valid: ReadingNames.isValidDevice), let metric = reader.name(valid: ReadingNames.isValidMetric),
                  let bits = reader.uint64(), let timestamp = reader.uint64(), let flag = reader.byte()
            else { return nil }
            var seq: UInt64?
            if flag == 1 {
                guard let value = reader.uint64() else { return nil }
                seq = value
            } else if flag != 0 {
                return nil
            }
            readings.append(Reading(
                device: device, metric: metric, value: Double(bitPattern: bits),
                timestamp: Int64(bitPattern: timestamp), seq: seq))
        }
        return reader.isAtEnd ? (readings, mark) : nil
    }

    static func uint32(at offset: Int, in bytes: UnsafeRawBufferPointer) -> UInt32 {
        var value: UInt32 = 0
        for index in (0..<4).reversed() { value = value << 8 | UInt32(bytes[offset + index]) }
        return value
    }
}

/// Little-endian writes into a record sized beforehand (``JournalRecord/encode(_:mark:into:)``).
private struct RecordWriter {
    let bytes: UnsafeMutableRawBufferPointer
    var offset = 0

    mutating func integer<T: FixedWidthInteger>(_ value: T) {
        bytes.storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self)
        offset += MemoryLayout<T>.size
    }

    /// A length byte and the name's bytes: names (and batch streams) are at most 128 bytes
    /// of ASCII, validated before.
    mutating func name(_ name: String) {
        var name = name
        name.withUTF8 { utf8 in
            integer(UInt8(truncatingIfNeeded: utf8.count))
            UnsafeMutableRawBufferPointer(rebasing: bytes[offset...]).copyMemory(from: UnsafeRawBufferPointer(utf8))
            offset += utf8.count
        }
    }
}

/// Bounds-checked little-endian reads over a record payload.
private struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    var offset = 0

    var isAtEnd: Bool { offset == bytes.count }

    mutating func byte() -> UInt8? {
        guard offset < bytes.count else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func uint16() -> UInt16? {
        guard offset + 2 <= bytes.count else { return nil }
        defer { offset += 2 }
        return UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
    }

    mutating func uint32() -> UInt32? {
        guard offset + 4 <= bytes.count else { return nil }
        defer { offset += 4 }
        return JournalRecord.uint32(at: offset, in: bytes)
    }

    mutating func uint64() -> UInt64? {
        guard offset + 8 <= bytes.count else { return nil }
        var value: UInt64 = 0
        for index in (0..<8).reversed() { value = value << 8 | UInt64(bytes[offset + index]) }
        offset += 8
        return value
    }

    mutating func name(valid: (UnsafeRawBufferPointer) -> Bool) -> String? {
        guard let length = byte(), length > 0, offset + Int(length) <= bytes.count else { return nil }
        let name = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + Int(length))])
        guard valid(name) else { return nil }
        offset += Int(length)
        return String(decoding: name, as: UTF8.self)
    }
}
