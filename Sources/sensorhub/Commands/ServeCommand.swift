import ArgumentParser
import Foundation
import HTTPAPI
import Logging
import MQTTIngest
import Metrics
import Prometheus
import SensorConfig
import SensorCore
import SensorPipeline
import SensorRules
import SensorStore
import ServiceLifecycle

/// `sensorhub serve`: the daemon. Settings come from --config FILE, then SENSORHUB_*
/// variables, then these flags (each overriding the one before).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the daemon: HTTP ingest and queries, aggregation, SQLite storage.")

    @Option(help: "YAML configuration file.") var config: String?
    @Option(help: "SQLite database path (store.path), or a postgres:// URL (store.url).") var db: String?
    @Option(help: "MQTT broker, mqtt://[user:pass@]host:port (mqtt.url).") var mqttUrl: String?
    @Option(help: "HTTP port, 0 for any free port (http.port).") var httpPort: String?
    @Option(help: "HTTP listen address (http.host).") var httpHost: String?
    @Option(help: "PEM certificate chain: serve HTTPS (http.tls.cert, with --tls-key).") var tlsCert: String?
    @Option(help: "PEM private key of --tls-cert (http.tls.key).") var tlsKey: String?
    /// Benchmarks and tests only: no journal, so acknowledged readings die with the process.
    @Flag(help: .hidden) var unsafeNoJournal = false
    /// Tests only: every flush waits this long first, to show backpressure.
    @Option(help: .hidden) var testingFlushDelay: Int?

    func run() async throws {
        // A file size limit (ulimit -f) must surface as an EFBIG write error, handled like
        // a full disk, not as a signal that kills the daemon.
        signal(SIGXFSZ, SIG_IGN)
        var flags = StoreOpening.flags(db: db)
        flags["mqtt.url"] = mqttUrl
        flags["http.port"] = httpPort
        flags["http.host"] = httpHost
        flags["http.tls.cert"] = tlsCert
        flags["http.tls.key"] = tlsKey
        let settings: Settings
        do {
            settings = try Settings.load(file: config, flags: flags)
        } catch {
            throw CommandFailure.usage("configuration: \(error.description)")
        }
        let logger = LogSetup.bootstrap(level: Logger.Level(rawValue: settings.log.level.rawValue) ?? .info, format: settings.log.format.rawValue)
        logger.info("starting", metadata: ["configuration": "\(settings.redactedDescription)"])

        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))

        let store: any SensorStore
        do {
            store = try await StoreOpening.openForWriting(settings, logger: logger)
        } catch {
            let location = StoreOpening.location(of: settings)
            logger.critical("cannot open the database", metadata: ["path": "\(location)", "error": "\(error)"])
            throw CommandFailure.fail("cannot open the database \(location): \(error)")
        }
        let pipeline = PipelineSetup.pipeline(
            settings: settings, store: store, logger: logger,
            flushDelay: .milliseconds(testingFlushDelay ?? 0), journalEnabled: !unsafeNoJournal)
        do {
            try pipeline.journal.prepareDirectory()
        } catch {
            logger.critical("cannot use the journal directory", metadata: ["error": "\(error)"])
            throw CommandFailure.fail("cannot use the journal directory: \(error)")
        }
        let mqttConfiguration: MQTTSourceConfiguration?
        do {
            mqttConfiguration = try MQTTSetup.configuration(from: settings)
        } catch {
            logger.critical("cannot read the MQTT password file", metadata: ["error": "\(error.description)"])
            throw CommandFailure.usage("configuration: \(error.description)")
        }
        let deliveries = try await RulesSetup.start(settings: settings, mqtt: mqttConfiguration, store: store, pipeline: pipeline, logger: logger)
        let mqtt: MQTTSource?
        if let mqttConfiguration {
            do {
                mqtt = try MQTTSource(configuration: mqttConfiguration, pipeline: pipeline, logger: logger)
            } catch {
                throw CommandFailure.fail("\(error)")
            }
        } else {
            mqtt = nil
        }
        let access: AccessPolicy
        let certificate: ServerCertificate?
        do {
            access = try HTTPSetup.access(from: settings)
        } catch {
            logger.critical("cannot read a token file", metadata: ["error": "\(error.description)"])
            throw CommandFailure.usage("configuration: \(error.description)")
        }
        do {
            certificate = try HTTPSetup.certificate(from: settings)
        } catch {
            logger.critical("cannot load the HTTPS certificate", metadata: ["error": "\(error)"])
            throw CommandFailure.usage("configuration: http.tls: \(error)")
        }
        let hangUp = certificate.map { HTTPSetup.reloadOnHangUp($0, logger: logger) }
        defer { hangUp?.cancel() }
        let reader = FreshAggregateReader.surfaces(of: store, pipeline: pipeline, answerUnflushed: settings.http.answerUnflushed)
        let http = SensorHubHTTPServer.makeApplication(
            configuration: APIConfiguration(
                host: settings.http.host, port: settings.http.port, access: access, certificate: certificate,
                maxBodyBytes: settings.http.maxBodyBytes, queueWait: settings.http.queueWait,
                maxConnections: settings.http.maxConnections, idleTimeout: settings.http.idleTimeout,
                queryRowLimit: settings.limits.maxQueryRows),
            pipeline: pipeline, store: reader, registry: registry, logger: logger,
            mqttState: { [mqtt] in mqtt?.connectionState.description },
            onListening: { [scheme = certificate == nil ? "http" : "https"] host, port in logger.info("listening \(scheme)=\(host):\(port)") })

        // Services stop in reverse order: HTTP and MQTT first (no new readings; MQTT
        // disconnects keeping its session), then deliveries (what is not delivered stays
        // queued in the database), then the pipeline drains its queues and writes the last
        // buckets, and the rule engine judges the windows they close.
        // The watchdog is last so it hears of the shutdown first and starts its clock.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: pipeline)]
        if let deliveries { services.append(.init(service: deliveries)) }
        if let mqtt { services.append(.init(service: mqtt)) }
        services.append(.init(service: http))
        services.append(.init(service: ShutdownWatchdog(deadline: settings.pipeline.shutdownDeadline, logger: logger)))
        let group = ServiceGroup(configuration: .init(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            logger.critical("stopped on error", metadata: ["error": "\(error)"])
            throw CommandFailure.fail("stopped on error: \(error)")
        }
        do {
            try await store.close()
        } catch {
            logger.error("cannot close the database cleanly", metadata: ["error": "\(error)"])
        }
        logger.info("stopped")
    }
}
