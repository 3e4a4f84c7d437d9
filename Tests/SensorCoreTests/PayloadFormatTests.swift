import Testing
import SensorCore

@Suite struct PayloadFormatTests {
    @Test(arguments: [
        ("application/json", PayloadFormat.json),
        ("application/x-ndjson", .ndjson),
        ("application/senml+json", .senml),
        ("text/plain", .lineProtocol),
        ("Application/JSON", .json),
        ("TEXT/PLAIN; charset=utf-8", .lineProtocol),
        ("application/json;charset=utf-8", .json),
        (" \tapplication/x-ndjson \t; q=1", .ndjson),
        ("application/senml+json ;", .senml),
    ])
    func namesTheFormatOfAMediaTypeWhateverItsCaseParametersAndBlanks(contentType: String, format: PayloadFormat) {
        #expect(PayloadFormat(contentType: contentType) == format)
    }

    @Test(arguments: [
        "", ";", "   ", "application/json5", "application/jso", "application/xml", "text/plain2",
        "application json", "text\tplain", "application/json\u{0}", "charset=utf-8; application/json",
        // Bytes that differ from a name's '/', '+' or '-' by the case bit only.
        "application\u{0F}json", "application/senml\u{0B}json", "application/x\rndjson",
    ])
    func refusesAnyOtherValue(contentType: String) {
        #expect(PayloadFormat(contentType: contentType) == nil)
    }
}
