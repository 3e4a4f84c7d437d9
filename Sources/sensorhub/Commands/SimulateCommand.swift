import ArgumentParser
import Foundation
import MQTTIngest

/// `sensorhub simulate`: a device fleet for trying SensorHub out and for benchmarks.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Publish readings of a simulated device fleet over MQTT or HTTP.",
        discussion: """
            Readings go round robin over devices × metrics, stamped with the current time. Over \
            MQTT, --batch 1 publishes one object per message on sensors/<device>/<metric>; \
            larger batches publish JSON arrays on sensors/sim/<n>/batch. Over HTTP, batches are \
            POSTed to /v1/readings. The summary counts what the broker or daemon acknowledged.
            """)

    enum Transport: String, ExpressibleByArgument { case mqtt, http }

    @Option(help: "Number of devices.") var devices: Int = 10
    @Option(help: "Metrics per device.") var metrics: Int = 4
    @Option(help: "Device names are this prefix and a 5-digit number (sim-00000, …).") var prefix: String = "sim-"
    @Option(help: "Total readings to send (default 10000 unless --duration is given).") var count: Int?
    @Option(help: "Send for this long instead of a count (e.g. 30s, 5m).") var duration: String?
    @Option(help: "Target readings per second; 0 sends as fast as acknowledgements allow.") var rate: Double = 0
    @Option(help: "Readings per message (MQTT) or per request (HTTP).") var batch: Int = 1
    @Option(help: "mqtt or http.") var transport: Transport = .mqtt
    @Option(help: "MQTT QoS 0, 1 or 2.") var qos: Int = 1
    @Option(help: "Broker to publish to: mqtt:// or mqtts://, with user:password@ if it wants them.") var mqttUrl: String = "mqtt://127.0.0.1:1883"
    @OptionGroup var mqttSecurity: MQTTClientOptions
    @Option(help: "Daemon for --transport http.") var server: String = "http://127.0.0.1:8080"
    @Option(help: "Bearer token for HTTP (default: $SENSORHUB_TOKEN).") var token: String?
    @Option(help: "PEM file of the CA to trust for an https:// --server (default: $SENSORHUB_CACERT, else the system's).") var cacert: String?
    @Option(help: "Value shape: walk, sine, spikes or mixed.") var shape: String = "mixed"
    @Option(help: "Seed of the fleet and its values.") var seed: UInt64 = 1
    @Flag(help: "Give every reading a per-series seq number (from 1).") var seq = false

    func validate() throws {
        guard devices > 0, metrics > 0 else { throw ValidationError("--devices and --metrics must be at least 1") }
        guard batch > 0 else { throw ValidationError("--batch must be at least 1") }
        guard (0...2).contains(qos) else { throw ValidationError("--qos must be 0, 1 or 2") }
        guard rate >= 0 else { throw ValidationError("--rate must not be negative") }
        guard ValueShape(rawValue: shape) != nil else { throw ValidationError("--shape must be walk, sine, spikes or mixed") }
        if let count, count <= 0 { throw ValidationError("--count must be at least 1") }
        if let duration, SimulationPlan.seconds(duration) == nil {
            throw ValidationError("invalid --duration \"\(duration)\": expected e.g. 30s, 5m, 1h")
        }
    }

    func run() async throws {
        let plan = SimulationPlan(
            count: count ?? (duration == nil ? 10_000 : nil), duration: duration.flatMap(SimulationPlan.seconds),
            rate: rate, batch: batch)
        var fleet = Fleet(devices: devices, metrics: metrics, prefix: prefix, shape: ValueShape(rawValue: shape) ?? .mixed, seed: seed, withSeq: seq)
        let summary: SimulationSummary
        switch transport {
        case .mqtt: summary = try MQTTSimulation(url: mqttUrl, qos: qos, security: mqttSecurity).run(&fleet, plan: plan)
        case .http: summary = try await HTTPSimulation(server: server, token: token, cacert: cacert).run(&fleet, plan: plan)
        }
        print(summary.description)
        if summary.acknowledged < summary.sent { throw ExitCode(1) }
    }
}
