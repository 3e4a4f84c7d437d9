import SensorCore

/// What every decoder promises about what it returns, checked on every fuzz input: the
/// input is taken whole or refused with a reason, and what is taken is valid.
func checkDecoded(_ data: UnsafePointer<UInt8>, _ size: Int, format: PayloadFormat, context: DecodeContext) {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    do {
        let readings = try ReadingDecoder.decode(bytes, format: format, context: context)
        precondition(readings.count <= context.maxReadings, "more readings than the payload limit")
        for reading in readings {
            precondition(ValueRange.contains(reading.value), "a value outside the range was taken: \(reading.value)")
            precondition((1...128).contains(reading.device.utf8.count) && (1...128).contains(reading.metric.utf8.count), "a name of a bad length")
            if let device = context.device { precondition(reading.device == device, "the topic's device was not kept") }
            if let metric = context.metric { precondition(reading.metric == metric, "the topic's metric was not kept") }
        }
    } catch {
        precondition(!error.message.isEmpty, "a refusal without a message")
        if let index = error.index { precondition(index >= 0, "a negative item index") }
    }
}
