import ArgumentParser
import SensorCore
import SensorStore

/// `sensorhub devices`: every known device with its metrics, last event time and count.
struct DevicesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "List devices, their metrics, when they were last seen and their reading counts.")

    @Option(help: "table, json or csv.") var format: OutputFormat = .table
    @OptionGroup var source: SourceOptions

    func run() async throws {
        let records: [DeviceRecord]
        if let client = source.daemonClient {
            records = try await client.devices()
        } else {
            let store = try await source.openStore()
            do {
                records = try await store.devices().map {
                    DeviceRecord(device: $0.device, metrics: $0.metrics, lastSeen: $0.lastSeen, readings: $0.readings)
                }
            } catch {
                throw CommandFailure.fail(error.description)
            }
        }
        try RecordPrinter.printDevices(records, format: format)
    }
}
