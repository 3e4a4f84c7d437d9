import SensorCore

/// libFuzzer target: `sensorhub import`'s readers on arbitrary bytes (see scripts/fuzz.sh).
/// The first byte picks the format and how many bytes each read returns (1–64), so record
/// boundaries fall anywhere across refills of the window. Every format must end (libFuzzer's
/// -timeout catches a hang), never crash, and give records on lines that never go back.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let formats: [ImportFormat] = [.ndjson, .lp, .json, .senml, .csv]
    let format = formats[Int(data[0]) % formats.count]
    let step = Int(data[0] >> 2) % 64 + 1
    let input = MemoryInput(bytes: Array(UnsafeBufferPointer(start: data + 1, count: size - 1)), step: step)
    var window = InputWindow(input: input)
    var framer: any RecordFramer = switch format {
    case .ndjson, .lp: LineFramer()
    case .json, .senml: JSONElementFramer()
    case .csv: CSVFramer()
    }
    var record: [UInt8] = []
    var lastLine = 0
    var values: [UInt8] = []
    var bounds: [Range<Int>] = []
    var carry = SenMLBaseCarry()
    let context = DecodeContext(arrivalTime: 1_764_165_600_000_000, maxReadings: 1_000)
    var records = 0
    while let found = try? framer.next(&window, into: &record) {
        records += 1
        precondition(records <= size + 1, "more records than bytes: the framer does not move on")
        let line: Int
        switch found {
        case .record(let number): line = number
        case .oversize(let number): line = number
        }
        precondition(line >= lastLine, "line numbers went back from \(lastLine) to \(line)")
        lastLine = line
        guard case .record = found else { continue }
        switch format {
        case .ndjson: _ = try? ReadingDecoder.decode(record, format: .ndjson, context: context)
        case .lp: _ = try? ReadingDecoder.decode(record, format: .lineProtocol, context: context)
        case .json: _ = try? ReadingDecoder.decode(record, format: .json, context: context)
        case .senml: _ = try? ReadingDecoder.decode(carry.pack(of: record), format: .senml, context: context)
        case .csv:
            if CSVFramer.fields(of: record, values: &values, bounds: &bounds), var layout = try? CSVLayout(header: bounds.map { String(decoding: values[$0], as: UTF8.self) }) {
                var json: [UInt8] = []
                _ = layout.json(of: values, bounds, into: &json)
            }
        }
    }
    return 0
}

/// Bytes in memory, given out `step` at a time.
final class MemoryInput: ByteInput {
    let bytes: [UInt8]
    let step: Int
    var offset = 0

    init(bytes: [UInt8], step: Int) {
        self.bytes = bytes
        self.step = step
    }

    var fileBytesRead: Int64 { Int64(offset) }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(ImportInputError) -> Int {
        let count = min(step, buffer.count, bytes.count - offset)
        guard count > 0 else { return 0 }
        bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: count) }
        offset += count
        return count
    }

    func skip(to target: Int64, from current: Int64) throws(ImportInputError) {
        offset = min(bytes.count, Int(target))
    }
}
