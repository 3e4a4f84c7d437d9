@testable import MQTTIngest
import SensorCore
import SensorPipeline
import Testing

/// A turn's messages are gathered in arrival order, one format and at most the payload
/// limit per submit.
@Suite struct MessageRoundTests {
    /// A message of `count` readings whose values number them from `first`.
    private func message(_ count: Int, _ format: PayloadFormat = .json, from first: Int) -> PreparedBatch {
        PreparedBatch(readings: (first..<(first + count)).map {
            Reading(device: "d\($0 % 3)", metric: "t", value: Double($0), timestamp: Int64($0))
        }, format: format)
    }

    private func values(_ batch: PreparedBatch?) -> [Double] {
        batch?.readings.map(\.value) ?? []
    }

    @Test func messagesOfOneFormatMakeOneBatchInArrivalOrder() {
        var round = MessageRound(maxReadings: 100)
        #expect(round.take() == nil)
        for index in 0..<10 { #expect(round.add(message(1, from: index)) == nil) }
        #expect(round.add(message(5, from: 10)) == nil)
        let batch = round.take()
        #expect(values(batch) == (0..<15).map(Double.init))
        #expect(batch?.format == .json)
        #expect(round.take() == nil, "taking empties the round")
    }

    @Test func anotherFormatOrTooManyReadingsHandsTheEarlierMessagesBackFirst() {
        var round = MessageRound(maxReadings: 10)
        #expect(round.add(message(2, from: 0)) == nil)
        let beforeLine = round.add(message(1, .lineProtocol, from: 2))
        #expect(values(beforeLine) == [0, 1] && beforeLine?.format == .json)
        #expect(round.add(message(9, .lineProtocol, from: 3)) == nil, "exactly the limit still fits")
        let full = round.add(message(1, .lineProtocol, from: 12))
        #expect(values(full) == (2..<12).map(Double.init) && full?.format == .lineProtocol)
        #expect(values(round.take()) == [12])
    }

    @Test func aMessageLargerThanTheLimitIsABatchOfItsOwn() {
        var round = MessageRound(maxReadings: 4)
        #expect(round.add(message(1, from: 0)) == nil)
        #expect(values(round.add(message(6, from: 1))) == [0])
        #expect(values(round.add(message(1, from: 7))) == (1..<7).map(Double.init))
        #expect(values(round.take()) == [7])
    }
}
