import SensorCore

/// Reads one input (a file or stdin, gzip or not) as chunks of readings: records framed
/// by the format, each decoded alone by the payload decoders of ingest (``ReadingDecoder``,
/// the same rules as HTTP and MQTT), so one bad record is a reject, never the end.
/// Memory: one read buffer, one record, one chunk.
public final class ImportReader {
    public let path: String
    public let format: ImportFormat
    /// Size of the file (nil for stdin or a pipe) and bytes of it read so far.
    public let fileSize: Int64?
    public let fileModified: Int64?
    public var fileBytesRead: Int64 { window.input.fileBytesRead }
    /// Gzip: bytes after the last member that start no other one (ignored, as `gzip -d` does).
    public var ignoredTrailingBytes: Int64 { (window.input as? GzipInput)?.trailingBytes ?? 0 }
    /// Wide CSV: columns skipped for holding no numbers.
    public var ignoredColumns: [String] { csv?.ignoredColumns ?? [] }

    private var window: InputWindow
    private var framer: any RecordFramer
    private var senml: SenMLBaseCarry
    private var csv: CSVLayout?
    private var record: [UInt8] = []
    private var values: [UInt8] = []
    private var bounds: [Range<Int>] = []
    private var json: [UInt8] = []

    /// Opens `path` (`-` for stdin), inflating gzip (known by its magic bytes), and
    /// moves to `position` (the start, or where an interrupted import stopped).
    /// `format` nil picks it from the extension, else from the first bytes.
    /// - Throws: ``ImportInputError`` when the input cannot be opened or read, or a CSV
    ///   header cannot be used.
    public init(path: String, format: ImportFormat?, from position: ImportPosition = .start) throws(ImportInputError) {
        self.path = path
        let file = try FileInput(path: path)
        fileSize = file.size
        fileModified = file.modified
        let magic = try file.peekPrefix(2)
        let input: any ByteInput = magic == [0x1F, 0x8B] ? try GzipInput(file) : file
        window = InputWindow(input: input)
        var chosen = format ?? ImportFormat(path: path)
        if chosen == nil {
            while window.available < 65_536, try window.fill() {}
            chosen = ImportFormat(sniffing: window.bytes[window.start..<window.end])
        }
        self.format = chosen ?? .ndjson
        senml = position.senml ?? SenMLBaseCarry()
        switch self.format {
        case .ndjson, .lp: framer = LineFramer()
        case .json, .senml: framer = JSONElementFramer()
        case .csv: framer = CSVFramer()
        }
        if self.format == .csv {
            try readHeader()
            csv?.decisions = position.csvColumns ?? [:]
        }
        if position.offset > window.offset {
            try window.skip(to: position.offset)
            switch self.format {
            case .ndjson, .lp: framer = LineFramer(line: position.line)
            case .json, .senml: framer = JSONElementFramer(line: position.line, inArray: position.inArray, atStart: false)
            case .csv: framer = CSVFramer(line: position.line, atStart: false)
            }
        }
    }

    /// The position after the last record read.
    public var position: ImportPosition {
        ImportPosition(offset: window.offset, line: framer.line, inArray: (framer as? JSONElementFramer)?.inArray ?? false,
                       senml: format == .senml ? senml : nil, csvColumns: csv.map(\.decisions))
    }

    /// Reads records until the chunk holds at least `maxReadings` readings or
    /// ``maxRejectsPerChunk`` rejects, or the input ends; nil when nothing was left to read.
    public func nextChunk(maxReadings: Int, arrivalTime: Int64) throws(ImportInputError) -> ImportChunk? {
        var chunk = ImportChunk(end: position)
        var sawRecord = false
        let context = DecodeContext(arrivalTime: arrivalTime, maxReadings: 100_000)
        while chunk.readings.count < maxReadings, chunk.rejects.count < Self.maxRejectsPerChunk,
              let framed = try framer.next(&window, into: &record) {
            sawRecord = true
            switch framed {
            case .oversize(let line):
                chunk.rejects.append(ImportReject(line: line, reason: .tooLarge, message: "the record is larger than \(FramedRecord.maxRecordBytes) bytes"))
            case .record(let line):
                switch decode(context) {
                case .success(let readings):
                    chunk.readings += readings
                    chunk.lines += repeatElement(line, count: readings.count)
                case .failure(let error):
                    chunk.rejects.append(ImportReject(line: line, reason: error.reason, message: Self.itemless(error.message)))
                }
            }
        }
        guard sawRecord else { return nil }
        chunk.end = position
        return chunk
    }

    /// A file of bad records still moves on in chunks of bounded size.
    static let maxRejectsPerChunk = 1_000

    private func decode(_ context: DecodeContext) -> Result<[Reading], DecodeError> {
        switch format {
        case .ndjson: return Result { () throws(DecodeError) in try ReadingDecoder.decode(record, format: .ndjson, context: context) }
        case .lp: return Result { () throws(DecodeError) in try ReadingDecoder.decode(record, format: .lineProtocol, context: context) }
        case .json: return Result { () throws(DecodeError) in try ReadingDecoder.decode(record, format: .json, context: context) }
        case .senml:
            let pack = senml.pack(of: record)
            return Result { () throws(DecodeError) in try ReadingDecoder.decode(pack, format: .senml, context: context) }
        case .csv:
            guard CSVFramer.fields(of: record, values: &values, bounds: &bounds) else {
                return .failure(DecodeError(.malformed, index: nil, "a quoted field does not close, or has text after its closing quote"))
            }
            if let problem = csv!.json(of: values, bounds, into: &json) {
                return .failure(DecodeError(.malformed, index: nil, problem))
            }
            return Result { () throws(DecodeError) in try ReadingDecoder.decode(json, format: .json, context: context) }
        }
    }

    private func readHeader() throws(ImportInputError) {
        guard case .record? = try framer.next(&window, into: &record) else {
            throw ImportInputError(path: path, reason: "the CSV file has no header row")
        }
        guard CSVFramer.fields(of: record, values: &values, bounds: &bounds) else {
            throw ImportInputError(path: path, reason: "the CSV header row does not parse (a quote does not close)")
        }
        let names = bounds.map { String(decoding: values[$0], as: UTF8.self) }
        do {
            csv = try CSVLayout(header: names)
        } catch {
            throw ImportInputError(path: path, reason: "CSV header: \(error.description)")
        }
    }

    /// A decoder's message about the only item of a record, without "item 0: " or
    /// "record 0: " (the line number says where).
    public static func itemless(_ message: String) -> String {
        for prefix in ["item 0: ", "record 0: ", "line 1: "] where message.hasPrefix(prefix) {
            return String(message.dropFirst(prefix.count))
        }
        return message
    }
}
