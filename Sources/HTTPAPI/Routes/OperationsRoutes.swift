internal import Hummingbird
internal import Prometheus
internal import SensorPipeline

/// `GET /healthz` (never behind the token) and `GET /metrics` (Prometheus text).
struct OperationsRoutes<Context: RequestContext>: Sendable {
    let pipeline: Pipeline
    let registry: PrometheusCollectorRegistry
    /// The MQTT connection state (`connected`, `connecting`, `stopped`); nil without MQTT.
    let mqttState: @Sendable () -> String?

    private struct Health: Encodable {
        let status: String
        /// Why readings are not taken; absent while they are.
        let reason: String?
        let accepting: Bool
        let queued: Int
        let mqtt: String?
    }

    func registerHealth(on router: Router<Context>) {
        router.get("healthz") { _, _ in
            let phase = pipeline.phase
            let status: String
            let reason: String?
            switch phase {
            case .recovering:
                (status, reason) = ("recovering", "replaying the ingest journal")
            case .accepting:
                if let problem = pipeline.degradation {
                    (status, reason) = ("degraded", problem)
                } else {
                    (status, reason) = ("ok", nil)
                }
            case .stopping:
                (status, reason) = ("stopping", "shutting down")
            }
            return try JSONResponse.make(
                Health(
                    status: status, reason: reason, accepting: phase == .accepting, queued: pipeline.queuedReadings,
                    mqtt: mqttState()),
                status: status == "ok" ? .ok : .serviceUnavailable)
        }
    }

    func registerMetrics(on group: RouterGroup<Context>) {
        group.get("metrics") { _, _ in
            var buffer: [UInt8] = []
            buffer.reserveCapacity(16_384)
            registry.emit(into: &buffer)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
    }
}
