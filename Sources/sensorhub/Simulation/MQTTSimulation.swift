import Foundation
import SensorCore
import MQTTIngest
import SensorConfig

/// Publishes the fleet over MQTT and waits for every acknowledgement.
struct MQTTSimulation {
    let url: MQTTURL
    let security: MQTTSecurity
    let qos: Int

    /// `url` is `mqtt://` or `mqtts://`, with or without `user:password@`.
    init(url text: String, qos: Int, security options: MQTTClientOptions) throws {
        switch MQTTURL.parse(text) {
        case .success(let url): self.url = url
        case .failure(let failure): throw CommandFailure.usage("invalid --mqtt-url \"\(MQTTURL.masked(text))\": \(failure.reason)")
        }
        self.qos = qos
        security = try options.security(for: url)
    }

    func run(_ fleet: inout Fleet, plan: SimulationPlan) throws -> SimulationSummary {
        let publisher: MQTTPublisher
        do {
            publisher = try MQTTPublisher(clientID: "sensorhub-simulate-\(getpid())", security: security)
            try publisher.connect(host: url.host, port: url.port)
        } catch {
            throw CommandFailure.fail("\(error)")
        }
        var progress = ProgressLine()
        let started = ContinuousClock.now
        var sent = 0, messages = 0
        while plan.continues(sent: sent, elapsed: (ContinuousClock.now - started).seconds) {
            let size = plan.nextBatch(sent: sent)
            let now = WallClock.microseconds()
            let topic: String
            let payload: String
            if size == 1 {
                let reading = fleet.next(now: now)
                topic = fleet.topic(series: reading.series, prefix: "sensors")
                payload = fleet.object(series: reading.series, value: reading.value, seq: reading.seq, now: now, names: false)
            } else {
                topic = "sensors/sim/\(getpid())/batch"
                payload = "[" + (0..<size).map { _ in
                    let reading = fleet.next(now: now)
                    return fleet.object(series: reading.series, value: reading.value, seq: reading.seq, now: now, names: true)
                }.joined(separator: ",") + "]"
            }
            do {
                try publisher.publish(topic: topic, payload: Array(payload.utf8), qos: qos)
            } catch {
                throw CommandFailure.fail("\(error)")
            }
            sent += size
            messages += 1
            // Keep at most 1000 messages unacknowledged: memory stays flat at any rate.
            publisher.waitUntilInFlight(atMost: 1_000, timeout: .seconds(60))
            plan.paceBlocking(sent: sent, started: started)
            progress.update("simulate: sent \(sent) readings, \(publisher.acknowledged) messages acknowledged")
        }
        publisher.waitUntilInFlight(atMost: 0, timeout: .seconds(60))
        let seconds = (ContinuousClock.now - started).seconds
        progress.finish()
        publisher.disconnect()
        let acknowledged = messages == 0 ? 0 : Int((Double(publisher.acknowledged) / Double(messages) * Double(sent)).rounded())
        return SimulationSummary(transport: "mqtt qos\(qos)", sent: sent, acknowledged: acknowledged, rejected: 0, seconds: seconds)
    }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }
}
