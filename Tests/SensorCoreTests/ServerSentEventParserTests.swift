import SensorCore
import Testing

/// The event-stream interpretation of WHATWG HTML ("Server-sent events"), as the CLI's
/// `tail` reads /v1/stream. Expected events are written out by hand from the spec.
@Suite struct ServerSentEventParserTests {
    private func parse(_ chunks: [String]) -> [ServerSentEvent] {
        var parser = ServerSentEventParser()
        return chunks.flatMap { parser.feed(Array($0.utf8)) }
    }

    @Test func oneDataLineIsOneMessageEvent() {
        #expect(parse(["data: {\"device\":\"d1\"}\n\n"]) == [ServerSentEvent(data: "{\"device\":\"d1\"}")])
    }

    @Test func namedEventKeepsItsName() {
        #expect(parse(["event: lagged\ndata: {\"dropped\":3}\n\n"]) == [ServerSentEvent(event: "lagged", data: "{\"dropped\":3}")])
    }

    @Test func eventNameDoesNotCarryOverToTheNextEvent() {
        let events = parse(["event: lagged\ndata: 1\n\ndata: 2\n\n"])
        #expect(events.map(\.event) == ["lagged", "message"], "\(events)")
    }

    @Test func multipleDataLinesJoinWithLineFeed() {
        #expect(parse(["data: a\ndata: b\ndata:\ndata: c\n\n"]) == [ServerSentEvent(data: "a\nb\n\nc")])
    }

    @Test func crlfAndLoneCarriageReturnEndLines() {
        let expected = [ServerSentEvent(data: "x"), ServerSentEvent(event: "e", data: "y")]
        #expect(parse(["data: x\r\n\r\nevent: e\r\ndata: y\r\n\r\n"]) == expected)
        #expect(parse(["data: x\r\revent: e\rdata: y\r\r"]) == expected)
    }

    @Test func crlfSplitAcrossChunksIsOneLineEnd() {
        // "\r" ends one chunk, "\n" opens the next: one line break, not a blank line.
        #expect(parse(["data: a\r", "\ndata: b\r", "\n\r", "\n"]) == [ServerSentEvent(data: "a\nb")])
    }

    @Test func eventSplitAtEveryByteIsParsedTheSame() {
        let text = ": heartbeat\r\nevent: lagged\ndata: {\"dropped\":7}\r\n\r\ndata: é-ü\n\n"
        let whole = parse([text])
        var parser = ServerSentEventParser()
        var byByte: [ServerSentEvent] = []
        for byte in Array(text.utf8) { byByte += parser.feed([byte]) }
        #expect(whole == [ServerSentEvent(event: "lagged", data: "{\"dropped\":7}"), ServerSentEvent(data: "é-ü")])
        #expect(byByte == whole)
    }

    @Test func commentsAreIgnored() {
        #expect(parse([": keep-alive\n\n", ":\n", "data: x\n: between\n\n"]) == [ServerSentEvent(data: "x")])
    }

    @Test func incompleteEventIsHeldUntilItsBlankLine() {
        var parser = ServerSentEventParser()
        #expect(parser.feed(Array("data: {\"a\":".utf8)).isEmpty)
        #expect(parser.feed(Array("1}\n".utf8)).isEmpty)
        #expect(parser.feed(Array("\n".utf8)) == [ServerSentEvent(data: "{\"a\":1}")])
    }

    @Test func blankLineWithoutDataDispatchesNothing() {
        #expect(parse(["\n\n", "event: lagged\n\n", "id: 5\n\n"]).isEmpty)
    }

    @Test func onlyOneSpaceAfterTheColonIsDropped() {
        #expect(parse(["data:x\n\ndata:  y \n\n"]) == [ServerSentEvent(data: "x"), ServerSentEvent(data: " y ")])
    }

    @Test func fieldWithoutColonHasEmptyValue() {
        // "data" alone appends an empty line; "event" alone leaves the default name.
        #expect(parse(["data\ndata\n\n", "event\ndata: z\n\n"]) == [ServerSentEvent(data: "\n"), ServerSentEvent(data: "z")])
    }

    @Test func unknownFieldsAreIgnored() {
        #expect(parse(["foo: bar\ndata: x\nDATA: y\n\n"]) == [ServerSentEvent(data: "x")])
    }

    @Test func retryAndIdFieldsDoNotDisturbTheEvents() {
        // The daemon's `retry:` hint is for browsers; `tail` paces its own reconnects.
        #expect(parse(["retry: 3000\n: connected\n\nid: 41\ndata: a\n\n"]) == [ServerSentEvent(data: "a")])
    }

    @Test func leadingByteOrderMarkIsSkippedOnlyAtTheStart() {
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        var parser = ServerSentEventParser()
        var events = parser.feed(bom.prefix(2))
        events += parser.feed(bom.suffix(1) + Array("data: x\n\n".utf8))
        events += parser.feed(bom + Array("data: y\n\n".utf8))
        // The second BOM is part of a field name, so that line is an unknown field.
        #expect(events == [ServerSentEvent(data: "x")])
    }

    @Test func textThatMerelyStartsLikeAByteOrderMarkIsKept() {
        var parser = ServerSentEventParser()
        let events = parser.feed([0xEF] + Array(":\ndata: x\n\n".utf8))
        // 0xEF then ":" is not a comment (the line starts with 0xEF): an unknown field.
        #expect(events == [ServerSentEvent(data: "x")])
    }
}
