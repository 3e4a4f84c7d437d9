import Foundation
import Testing
import SensorCore
@testable import SensorImport

/// The reader against the files a user has: every format and form, the separators and
/// quoting real exports use, gzip, bad records among good ones, and resuming from any
/// chunk's end giving exactly the readings a straight read gives after it.
@Suite struct ImportReaderTests {
    private static let arrival: Int64 = 1_764_165_999_000_000

    private final class Folder {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("import-reader-\(UUID().uuidString)")
        init() { try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }
        deinit { try? FileManager.default.removeItem(at: url) }

        func write(_ name: String, _ text: String) throws -> String {
            try write(name, Data(text.utf8))
        }

        func write(_ name: String, _ data: Data) throws -> String {
            let path = url.appendingPathComponent(name).path
            try data.write(to: URL(fileURLWithPath: path))
            return path
        }

        /// `text` gzipped by the system's gzip (an independent encoder).
        func gzip(_ name: String, _ text: String) throws -> String {
            let plain = try write(name, text)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/gzip")
            process.arguments = ["-f", plain]
            try process.run()
            process.waitUntilExit()
            return plain + ".gz"
        }
    }

    /// Everything a reader gives: readings with their lines, and rejects.
    private static func readAll(_ reader: ImportReader, chunk: Int = 1_000) throws -> (readings: [Reading], lines: [Int], rejects: [ImportReject]) {
        var all: ([Reading], [Int], [ImportReject]) = ([], [], [])
        while let next = try reader.nextChunk(maxReadings: chunk, arrivalTime: arrival) {
            all.0 += next.readings
            all.1 += next.lines
            all.2 += next.rejects
        }
        return all
    }

    private static func r(_ device: String, _ metric: String, _ value: Double, _ seconds: Double, seq: UInt64? = nil) -> Reading {
        Reading(device: device, metric: metric, value: value, timestamp: Int64((seconds * 1_000_000).rounded()), seq: seq)
    }

    @Test func ndjsonLinesWithBlankLinesCRLFAndABadLine() throws {
        let folder = Folder()
        let path = try folder.write("a.ndjson", """
            {"device":"d1","metric":"temp","value":21.5,"ts":1764165600.25,"seq":1}\r
            \r
            {"device":"d1","metric":"temp","value":"hot","ts":1764165601}
            {"device":"d2","metric":"rh","value":40,"ts":"2025-11-26T14:00:02Z"}
            """)
        let reader = try ImportReader(path: path, format: nil)
        #expect(reader.format == .ndjson)
        let all = try Self.readAll(reader)
        #expect(all.readings == [Self.r("d1", "temp", 21.5, 1_764_165_600.25, seq: 1), Self.r("d2", "rh", 40, 1_764_165_602)])
        #expect(all.lines == [1, 4])
        #expect(all.rejects.map(\.line) == [3])
        #expect(all.rejects.map(\.reason) == [.invalidValue])
    }

    @Test func lineProtocolGivesOneReadingPerNumericField() throws {
        let folder = Folder()
        let path = try folder.write("x.lp", "temp,device=d1 value=21.5 1764165600000000000\nair,device=d2 value=1,co2=415i 1764165601000000000\nbroken line\n")
        let all = try Self.readAll(try ImportReader(path: path, format: nil))
        #expect(all.readings == [Self.r("d1", "temp", 21.5, 1_764_165_600), Self.r("d2", "air", 1, 1_764_165_601), Self.r("d2", "air.co2", 415, 1_764_165_601)])
        #expect(all.lines == [1, 2, 2])
        #expect(all.rejects.map(\.line) == [3])
    }

    @Test func aJSONArraySpreadOverLinesIsReadElementByElement() throws {
        let folder = Folder()
        let path = try folder.write("a.json", """
            \u{FEFF}[
              {"device": "d1", "metric": "temp", "value": 1, "ts": 1764165600},
              {"device": "d1", "metric": "temp",
               "value": 2, "ts": 1764165601, "note": "a } and a ] in a string"},
              {"device": "bad device", "metric": "temp", "value": 3},
              {"device": "d1", "metric": "temp", "value": 4, "ts": 1764165603}
            ]
            """)
        let all = try Self.readAll(try ImportReader(path: path, format: nil))
        #expect(all.readings.map(\.value) == [1, 2, 4])
        #expect(all.lines == [2, 3, 6])
        #expect(all.rejects == [ImportReject(line: 5, reason: .invalidDevice, message: all.rejects.first?.message ?? "")])
    }

    @Test func senmlBaseFieldsCarryOverFromRecordToRecord() throws {
        let folder = Folder()
        let path = try folder.write("pack.senml", """
            [{"bn":"urn:dev:ow:10e2073a:","bt":1764165600,"n":"temp","v":20},
             {"n":"temp","t":10,"v":21},
             {"bn":"gw1/","n":"rh","v":50,"t":1},
             {"n":"rh","vs":"high"},
             {"n":"rh","v":51,"t":2}]
            """)
        let reader = try ImportReader(path: path, format: nil)
        #expect(reader.format == .senml)
        let all = try Self.readAll(reader)
        #expect(all.readings == [
            Self.r("urn:dev:ow:10e2073a", "temp", 20, 1_764_165_600), Self.r("urn:dev:ow:10e2073a", "temp", 21, 1_764_165_610),
            Self.r("gw1", "rh", 50, 1_764_165_601), Self.r("gw1", "rh", 51, 1_764_165_602),
        ])
        #expect(all.rejects.map(\.reason) == [.invalidValue])
        #expect(all.rejects.map(\.line) == [4])
    }

    @Test func csvLongFormInAnyColumnOrderWithQuotesBOMAndCRLF() throws {
        let folder = Folder()
        let path = try folder.write("long.csv", "\u{FEFF}ts,value,metric,device,seq\r\n1764165600,21.5,temp,\"d,1\",\r\n1764165601,\"22\",temp,d1,7\r\n2025-11-26T14:00:02Z,n/a,temp,d1,\r\n1764165603,23,\"te\"\"mp\",d1,\r\n1764165604,24,temp,d1\r\n")
        let all = try Self.readAll(try ImportReader(path: path, format: nil))
        #expect(all.readings == [Self.r("d1", "temp", 22, 1_764_165_601, seq: 7)])
        #expect(all.lines == [3])
        // "d,1" is not a device name; n/a is not a number; te"mp is not a metric; a short row.
        #expect(all.rejects.map(\.line) == [2, 4, 5, 6])
        #expect(all.rejects.map(\.reason) == [.invalidDevice, .invalidValue, .invalidMetric, .malformed])
    }

    @Test func csvWideFormTakesEveryNumericColumnAndSkipsEmptyCells() throws {
        let folder = Folder()
        let path = try folder.write("wide.csv", """
            device,ts,temp,rh,status
            d1,1764165600,21.5,40,ok
            d2,1764165600,,41,ok
            "d3",2025-11-26T14:00:01Z,22,"multi
            line",ok
            """)
        let reader = try ImportReader(path: path, format: .csv)
        let all = try Self.readAll(reader)
        #expect(reader.ignoredColumns == ["status"])
        #expect(all.readings == [Self.r("d1", "temp", 21.5, 1_764_165_600), Self.r("d1", "rh", 40, 1_764_165_600), Self.r("d2", "rh", 41, 1_764_165_600), Self.r("d3", "temp", 22, 1_764_165_601)].prefix(3) + [])
        #expect(all.rejects.map(\.line) == [4], "a quoted line end inside the rh cell of line 4")
        #expect(all.rejects.map(\.reason) == [.invalidValue])
    }

    @Test func aHeaderThatIsNeitherFormIsRefusedWithTheReason() throws {
        let folder = Folder()
        let path = try folder.write("bad.csv", "sensor,temp\nd1,1\n")
        #expect(throws: ImportInputError.self) { try ImportReader(path: path, format: .csv) }
        let noMetric = try folder.write("bad2.csv", "device,ts,bad name\nd1,1,2\n")
        do {
            _ = try ImportReader(path: noMetric, format: .csv)
            Issue.record("accepted a header with an invalid metric name")
        } catch {
            #expect(error.reason.contains("\"bad name\" is not a valid metric name"))
        }
    }

    @Test func gzipIsInflatedWhileReadingAndGivesTheSameReadings() throws {
        let folder = Folder()
        let text = (0..<5_000).map { #"{"device":"d\#($0 % 7)","metric":"temp","value":\#($0),"ts":\#(1_764_165_600 + $0)}"# }.joined(separator: "\n")
        let plain = try Self.readAll(try ImportReader(path: try folder.write("p.ndjson", text), format: nil))
        let gz = try folder.gzip("z.ndjson", text)
        let reader = try ImportReader(path: gz, format: nil)
        #expect(reader.format == .ndjson)
        let inflated = try Self.readAll(reader)
        #expect(inflated.readings == plain.readings)
        #expect(inflated.readings.count == 5_000)
        #expect(reader.fileBytesRead == reader.fileSize)
    }

    @Test func aLineLongerThanARecordMayBeIsRejectedAndSkipped() throws {
        let folder = Folder()
        let long = String(repeating: "x", count: FramedRecord.maxRecordBytes + 10)
        let path = try folder.write("big.ndjson", "{\"device\":\"d1\",\"metric\":\"m\",\"value\":1}\n\(long)\n{\"device\":\"d1\",\"metric\":\"m\",\"value\":2}\n")
        let all = try Self.readAll(try ImportReader(path: path, format: nil))
        #expect(all.readings.map(\.value) == [1, 2])
        #expect(all.lines == [1, 3])
        #expect(all.rejects.map(\.reason) == [.tooLarge])
    }

    /// Resuming at the end of any chunk gives exactly what a straight read gives after it.
    @Test(arguments: [ImportFormat.ndjson, .json, .senml, .csv, .lp], [false, true])
    func resumingAfterAnyChunkContinuesExactly(format: ImportFormat, gzipped: Bool) throws {
        let folder = Folder()
        let text = Self.sample(format, rows: 300)
        let path = gzipped ? try folder.gzip("s.\(format.rawValue)", text) : try folder.write("s.\(format.rawValue)", text)
        let straight = try Self.readAll(try ImportReader(path: path, format: format))
        #expect(straight.readings.count >= 300)
        #expect(straight.rejects.isEmpty)
        let reader = try ImportReader(path: path, format: format)
        var before: [Reading] = []
        var chunkIndex = 0
        while let chunk = try reader.nextChunk(maxReadings: 37, arrivalTime: Self.arrival) {
            before += chunk.readings
            chunkIndex += 1
            guard chunkIndex % 3 == 0 else { continue }
            let resumed = try Self.readAll(try ImportReader(path: path, format: format, from: chunk.end))
            #expect(before + resumed.readings == straight.readings, "resumed after chunk \(chunkIndex)")
            #expect(Array(straight.lines.suffix(resumed.lines.count)) == resumed.lines)
        }
    }

    private static func sample(_ format: ImportFormat, rows: Int) -> String {
        let ts = { (i: Int) in 1_764_165_600 + i }
        switch format {
        case .ndjson: return (0..<rows).map { #"{"device":"d\#($0 % 5)","metric":"m","value":\#($0),"ts":\#(ts($0))}"# }.joined(separator: "\n") + "\n"
        case .json: return "[\n" + (0..<rows).map { #"  {"device": "d\#($0 % 5)", "metric": "m", "value": \#($0), "ts": \#(ts($0))}"# }.joined(separator: ",\n") + "\n]\n"
        case .senml: return "[" + (0..<rows).map { $0 % 50 == 0 ? #"{"bn":"d\#($0 % 5)/","bt":\#(ts($0)),"n":"m","v":\#($0)}"# : #"{"n":"m","t":\#($0 % 50),"v":\#($0)}"# }.joined(separator: ",\n") + "]"
        // A text column whose first value comes late: the decision to leave it out must
        // survive a resume.
        case .csv: return "device,ts,a,b,note\n" + (0..<rows).map { "d\($0 % 5),\(ts($0)),\($0),\"\($0 * 2)\",\($0 < 100 ? "" : "n/a")" }.joined(separator: "\r\n") + "\r\n"
        case .lp: return (0..<rows).map { "m,device=d\($0 % 5) value=\($0),x=\($0 + 1) \(ts($0))000000000" }.joined(separator: "\n")
        }
    }

    @Test func strayClosingBracketsAreRejectsNotAnEndlessLoop() throws {
        let folder = Folder()
        let path = try folder.write("stray.json", "[{\"device\":\"d\",\"metric\":\"m\",\"value\":1}}\n,{\"device\":\"d\",\"metric\":\"m\",\"value\":2}]\n]\n")
        let all = try Self.readAll(try ImportReader(path: path, format: .json))
        #expect(all.readings.map(\.value) == [1, 2])
        #expect(all.rejects.map(\.line) == [1, 3])
        #expect(all.rejects.allSatisfy { $0.reason == .malformed })
    }

    @Test func aQuoteInsideAFieldIsAnOrdinaryCharacter() throws {
        let folder = Folder()
        let path = try folder.write("q.csv", "device,metric,value\nd1,5\" pipe,3\nd2,m,4\n\"d3\",\"m\",\"5\"\n")
        let all = try Self.readAll(try ImportReader(path: path, format: .csv))
        #expect(all.readings.map(\.value) == [4, 5])
        #expect(all.rejects.map(\.line) == [2])
        #expect(all.rejects.map(\.reason) == [.invalidMetric])
    }

    @Test func aWideColumnIsDecidedByItsFirstNonEmptyValue() throws {
        let folder = Folder()
        let path = try folder.write("w.csv", "device,ts,temp,status\nd1,1764165600,20,\nd1,1764165601,21,ok\nd1,1764165602,22,ok\n")
        let reader = try ImportReader(path: path, format: .csv)
        let all = try Self.readAll(reader)
        #expect(all.readings.map(\.value) == [20, 21, 22])
        #expect(all.rejects.isEmpty)
        #expect(reader.ignoredColumns == ["status"])
    }

    @Test func bytesAfterTheLastGzipMemberEndTheInput() throws {
        let folder = Folder()
        let text = (0..<100).map { #"{"device":"d","metric":"m","value":\#($0)}"# }.joined(separator: "\n")
        let gz = try folder.gzip("t.ndjson", text)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: gz))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(repeating: 0, count: 512))
        try handle.close()
        let reader = try ImportReader(path: gz, format: nil)
        let all = try Self.readAll(reader)
        #expect(all.readings.count == 100)
        #expect(reader.ignoredTrailingBytes == 512)
        let truncated = try folder.write("cut.ndjson.gz", try Data(contentsOf: URL(fileURLWithPath: gz)).prefix(40))
        #expect(throws: ImportInputError.self) { _ = try Self.readAll(try ImportReader(path: truncated, format: nil)) }
    }

    @Test func sniffingPicksTheFormatOfStdinLikeInput() {
        func sniff(_ text: String) -> ImportFormat { ImportFormat(sniffing: ArraySlice(text.utf8)) }
        #expect(sniff("{\"device\":\"d\",\"metric\":\"m\",\"value\":1}\n{") == .ndjson)
        #expect(sniff("{\n  \"device\": \"d\"") == .json)
        #expect(sniff("[{\"device\":\"d\"}]") == .json)
        #expect(sniff("[{\"bn\":\"d/\",\"n\":\"m\",\"v\":1}]") == .senml)
        #expect(sniff("Device,TS,temp\nd1,1,2") == .csv)
        #expect(sniff("temp,device=d1 value=1 1") == .lp)
        #expect(ImportFormat(path: "/x/export.CSV.gz") == .csv)
        #expect(ImportFormat(path: "dump.jsonl") == .ndjson)
        #expect(ImportFormat(path: "noextension") == nil)
    }
}
