public import Foundation
internal import Configuration
internal import SensorCore
internal import Yams

extension Settings {
    /// Loads the settings: flags over `SENSORHUB_*` environment variables over the config
    /// file over ``defaults``, every value validated.
    ///
    /// Strict by design, so that a typo never silently falls back to a default:
    /// - `file` (when given) must exist, be readable, be valid YAML, and hold only known
    ///   sections and keys (`store`, `http`, `mqtt`, `pipeline`, `limits`, `journal`, `log`,
    ///   `alerts`, and the file-only `rules` and `forward`;
    ///   see ``SettingKey``);
    /// - an environment variable in a setting section's namespace (`SENSORHUB_HTTP_*`,
    ///   `SENSORHUB_STORE_*`, ...) must be one of the accepted names. Other names, including
    ///   other `SENSORHUB_*` ones such as `SENSORHUB_BIN`, are not settings and are ignored;
    /// - `flags` must be keyed by known dotted keys (`http.port`);
    /// - every value must parse and be in range, whichever source it comes from.
    ///
    /// - Parameters:
    ///   - file: path of the YAML config file, or nil for none.
    ///   - environment: the environment to read `SENSORHUB_*` variables from.
    ///   - flags: command-line values already parsed, keyed by dotted key
    ///     (`["http.port": "0", "store.path": "/tmp/x.db"]`).
    /// - Throws: ``SettingsError`` naming the source, the key and the problem.
    public static func load(
        file: String?,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        flags: [String: String]
    ) throws(SettingsError) -> Settings {
        try SettingsLoader(file: file, environment: environment, flags: flags).load()
    }
}

/// One load: the three providers behind one `ConfigReader`, and the typed reads.
private struct SettingsLoader {
    /// A source's place in the reader's provider list (highest precedence first).
    private enum SourceKind { case flags, environment, file(String) }

    /// The sources, highest precedence first.
    private let kinds: [SourceKind]
    /// All sources behind one reader: what it returns is the effective value.
    private let merged: ConfigReader
    /// One reader per source (same order as `kinds`), to check values the merged one shadows.
    private let singles: [ConfigReader]
    private let recorder = SourceRecorder()
    /// `http.tokens`, from the file only.
    private let tokens: [TokenSpec]
    /// The config file's path and document, for `rules:` and `forward:`.
    private let fileRoot: (path: String, root: Node)?

    init(file: String?, environment: [String: String], flags: [String: String]) throws(SettingsError) {
        try Self.checkFlagKeys(flags)
        try Self.checkEnvironmentNames(environment)

        var providers: [any ConfigProvider] = []
        var kinds: [SourceKind] = []

        var flagValues: [AbsoluteConfigKey: ConfigValue] = [:]
        for (name, text) in flags {
            let key = SettingKey(rawValue: name)
            flagValues[AbsoluteConfigKey(ConfigKey(name))] = ConfigValue(.string(text), isSecret: key?.isSecret ?? false)
        }
        providers.append(InMemoryProvider(name: "flags", values: flagValues))
        kinds.append(.flags)

        // `http.port` → `sensorhub.http.port` → SENSORHUB_HTTP_PORT (the provider upper-cases
        // and joins components with `_`, so `flush_interval` stays FLUSH_INTERVAL).
        let secretNames = SettingKey.allCases.filter(\.isSecret).map(\.environmentVariable)
        providers.append(
            EnvironmentVariablesProvider(environmentVariables: environment, secretsSpecifier: .specific(Set(secretNames)))
                .prefixKeys(with: ConfigKey(SettingKey.environmentPrefix))
        )
        kinds.append(.environment)

        let configFile = try file.map { (path: String) throws(SettingsError) in try ConfigFile(path: path) }
        if let file, let fileProvider = configFile?.provider {
            providers.append(fileProvider)
            kinds.append(.file(file))
        }
        tokens = configFile?.tokens ?? []
        fileRoot = file.flatMap { path in configFile?.root.map { (path, $0) } }

        self.kinds = kinds
        self.merged = ConfigReader(providers: providers, accessReporter: recorder)
        self.singles = providers.map { [recorder] in ConfigReader(provider: $0, accessReporter: recorder) }
    }

    func load() throws(SettingsError) -> Settings {
        var settings = Settings.defaults
        if let value = try read(.storePath, parse: ValueRules.nonEmpty) { settings.store.path = value }
        if let value = try read(.storeURL, parse: ValueRules.postgresURL) { settings.store.url = value }
        if let value = try read(.storeFlushInterval, parse: { ValueRules.duration($0, minimum: .milliseconds(1)) }) {
            settings.store.flushInterval = value
        }
        if let value = try read(.storeResolutions, parseRaw: ValueRules.resolutions) { settings.store.resolutions = value }
        if let value = try read(.storeRetentionInterval, parse: { ValueRules.duration($0, minimum: .seconds(1)) }) {
            settings.store.retentionInterval = value
        }
        if let found = try located(.storeRetention, parseRaw: ValueRules.retention) {
            if let stray = found.value.keys.sorted().first(where: { !settings.store.resolutions.contains($0) }) {
                throw SettingsError(
                    source: source(of: found.source, key: .storeRetention), key: SettingKey.storeRetention.rawValue,
                    problem: "names \(stray), which is not one of store.resolutions (\(settings.store.resolutions.map(\.description).joined(separator: ",")))")
            }
            settings.store.retention = found.value
        }
        if let value = try read(.httpHost, parse: ValueRules.host) { settings.http.host = value }
        if let value = try read(.httpPort, parse: ValueRules.port) { settings.http.port = value }
        if let value = try read(.httpToken, parse: ValueRules.token) { settings.http.token = value }
        if let value = try read(.httpMaxBody, parse: { ValueRules.size($0, within: 1...(1 << 30), rangeText: "1 byte to 1GiB") }) {
            settings.http.maxBodyBytes = value
        }
        if let value = try read(.httpQueueWait, parse: { ValueRules.duration($0, minimum: .zero) }) {
            settings.http.queueWait = value
        }
        if let value = try read(.httpStreamBuffer, parse: { ValueRules.count($0, within: 1...1_000_000, what: "stream buffer") }) {
            settings.http.streamBuffer = value
        }
        if let value = try read(.httpMaxStreams, parse: { ValueRules.count($0, within: 1...10_000, what: "live subscriber limit") }) {
            settings.http.maxStreams = value
        }
        if let value = try read(.httpMaxConnections, parse: { ValueRules.count($0, within: 1...1_000_000, what: "connection limit") }) {
            settings.http.maxConnections = value
        }
        if let value = try read(.httpIdleTimeout, parse: { ValueRules.duration($0, minimum: .seconds(1)) }) {
            settings.http.idleTimeout = value
        }
        if let value = try read(.httpAnswerUnflushed, parse: ValueRules.bool) { settings.http.answerUnflushed = value }
        settings.http.tls = try readPair(.httpTLSCert, .httpTLSKey).map { Settings.TLSFiles(certificate: $0.0, privateKey: $0.1) }
        settings.http.tokens = tokens
        if let value = try read(.mqttURL, parse: ValueRules.mqttURL) { settings.mqtt.url = value }
        try readMQTTCredentials(into: &settings)
        if let value = try read(.mqttEnabled, parse: ValueRules.bool) { settings.mqtt.enabled = value }
        if let value = try read(.mqttTopics, parseRaw: ValueRules.topicFilters) { settings.mqtt.topics = value }
        if let value = try read(.mqttQoS, parse: { ValueRules.count($0, within: 0...2, what: "QoS level") }) {
            settings.mqtt.qos = value
        }
        if let value = try read(.mqttClientID, parse: ValueRules.clientID) { settings.mqtt.clientID = value }
        if let value = try read(.mqttSharedGroup, parse: ValueRules.shareName) { settings.mqtt.sharedGroup = value }
        if let value = try read(.mqttProtocol, parse: ValueRules.mqttProtocol) { settings.mqtt.protocolVersion = value }
        if let value = try read(.mqttKeepalive, parse: {
            ValueRules.duration($0, minimum: .seconds(5), maximum: .seconds(65_535), wholeSeconds: true)
        }) {
            settings.mqtt.keepalive = value
        }
        try readReconnectDelays(into: &settings)
        if let value = try read(.mqttReceiveMaximum, parse: { ValueRules.count($0, within: 1...65_535, what: "receive maximum") }) {
            settings.mqtt.receiveMaximum = value
        }
        if let value = try read(.mqttSessionExpiry, parse: {
            ValueRules.duration($0, minimum: .zero, maximum: .seconds(4_294_967_295), wholeSeconds: true)
        }) {
            settings.mqtt.sessionExpiry = value
        }
        if let value = try read(.mqttMaxPayload, parse: { ValueRules.size($0, within: 1...(256 << 20), rangeText: "1 byte to 256MiB") }) {
            settings.mqtt.maxPayloadBytes = value
        }
        try readLimits(into: &settings)
        if let value = try read(.pipelineShards, parse: { ValueRules.count($0, within: 1...1_024, what: "shard count") }) {
            settings.pipeline.shards = value
        }
        if let value = try read(.pipelineQueueCapacity, parse: { ValueRules.count($0, within: 1...(1 << 24), what: "queue capacity") }) {
            settings.pipeline.queueCapacity = value
        }
        if let value = try read(.pipelineMaxPendingBuckets, parse: { ValueRules.count($0, within: 1_000...100_000_000, what: "pending bucket limit") }) {
            settings.pipeline.maxPendingBuckets = value
        }
        if let value = try read(.pipelineMaxPendingBytes, parse: { ValueRules.size($0, within: (1 << 20)...(64 << 30), rangeText: "1MiB to 64GiB") }) {
            settings.pipeline.maxPendingBytes = value
        }
        if let value = try read(.pipelineShutdownDeadline, parse: { ValueRules.duration($0, minimum: .milliseconds(100)) }) {
            settings.pipeline.shutdownDeadline = value
        }
        if let value = try read(.pipelineMaxFutureSkew, parse: { ValueRules.duration($0, minimum: .zero) }) {
            settings.pipeline.maxFutureSkew = value
        }
        if let value = try read(.journalDirectory, parse: ValueRules.nonEmpty) { settings.journal.directory = value }
        if let value = try read(.journalFsync, parse: { ValueRules.choice($0, of: JournalFsync.self, what: "journal fsync policy") }) {
            settings.journal.fsync = value
        }
        if let value = try read(.journalFsyncInterval, parse: { ValueRules.duration($0, minimum: .milliseconds(10)) }) {
            settings.journal.fsyncInterval = value
        }
        if let value = try read(.journalSegmentSize, parse: { ValueRules.size($0, within: (1 << 20)...(1 << 30), rangeText: "1MiB to 1GiB") }) {
            settings.journal.segmentSize = value
        }
        if let value = try read(.logLevel, parse: { ValueRules.choice($0, of: LogLevel.self, what: "log level") }) {
            settings.log.level = value
        }
        if let value = try read(.logFormat, parse: { ValueRules.choice($0, of: LogFormat.self, what: "log format") }) {
            settings.log.format = value
        }
        try readAlerts(into: &settings)
        return settings
    }

    /// `alerts.*`, then the file's `rules:` and `forward:` against `store.resolutions`.
    private func readAlerts(into settings: inout Settings) throws(SettingsError) {
        if let value = try read(.alertsLateness, parse: { ValueRules.duration($0, minimum: .zero, maximum: .seconds(3_600)) }) {
            settings.alerts.lateness = value
        }
        if let value = try read(.alertsRetryMin, parse: { ValueRules.duration($0, minimum: .milliseconds(10)) }) {
            settings.alerts.retryMin = value
        }
        if let found = try located(.alertsRetryMax, parse: { ValueRules.duration($0, minimum: .milliseconds(10)) }) {
            guard found.value >= settings.alerts.retryMin else {
                throw SettingsError(source: source(of: found.source, key: .alertsRetryMax), key: SettingKey.alertsRetryMax.rawValue,
                                    problem: "must be at least alerts.retry_min (\(DurationText.format(settings.alerts.retryMin)))")
            }
            settings.alerts.retryMax = found.value
        }
        settings.alerts.retryMax = max(settings.alerts.retryMax, settings.alerts.retryMin)
        if let value = try read(.alertsWebhookTimeout, parse: { ValueRules.duration($0, minimum: .milliseconds(100)) }) {
            settings.alerts.webhookTimeout = value
        }
        if let value = try read(.alertsMaxQueued, parse: { ValueRules.count($0, within: 1_000...100_000_000, what: "queue bound") }) {
            settings.alerts.maxQueued = value
        }
        if let value = try read(.alertsKeepResolved, parse: { ValueRules.duration($0, minimum: .seconds(60)) }) {
            settings.alerts.keepResolved = value
        }
        guard let (path, root) = fileRoot else { return }
        settings.rules = try RuleSpecs.rules(in: root, resolutions: settings.store.resolutions, source: .file(path))
        settings.forward = try RuleSpecs.forward(in: root, resolutions: settings.store.resolutions, source: .file(path))
        guard !settings.mqtt.enabled else { return }
        let offMessage = "publishes over MQTT, which mqtt.enabled=false turns off"
        if settings.forward != nil { throw SettingsError(source: .file(path), key: RuleSpecs.forwardSection, problem: offMessage) }
        for rule in settings.rules where rule.actions.contains(where: { if case .mqtt = $0 { true } else { false } }) {
            throw SettingsError(source: .file(path), key: "\(RuleSpecs.rulesSection)[\(rule.name)].mqtt", problem: offMessage)
        }
    }

    /// Two keys that go together (a certificate and its key): both or neither. Nil when
    /// neither is set.
    private func readPair(_ first: SettingKey, _ second: SettingKey) throws(SettingsError) -> (String, String)? {
        let one = try located(first, parse: ValueRules.nonEmpty)
        let other = try located(second, parse: ValueRules.nonEmpty)
        switch (one, other) {
        case let (one?, other?): return (one.value, other.value)
        case (nil, nil): return nil
        case let (one?, nil):
            throw SettingsError(source: source(of: one.source, key: first), key: first.rawValue, problem: "is set without \(second.rawValue) (\(second.flag)); give both or neither")
        case let (nil, other?):
            throw SettingsError(source: source(of: other.source, key: second), key: second.rawValue, problem: "is set without \(first.rawValue) (\(first.flag)); give both or neither")
        }
    }

    /// `mqtt.username`, `mqtt.password_file` and `mqtt.tls.*`, checked against `mqtt.url`:
    /// one user name (in the URL or the key), a password file only with a user, TLS
    /// settings only with `mqtts://`.
    private func readMQTTCredentials(into settings: inout Settings) throws(SettingsError) {
        func fail(_ key: SettingKey, _ found: (value: String, source: Int), _ problem: String) -> SettingsError {
            SettingsError(source: source(of: found.source, key: key), key: key.rawValue, problem: problem)
        }
        if let username = try located(.mqttUsername, parse: ValueRules.nonEmpty) {
            guard settings.mqtt.url.username == nil else {
                throw fail(.mqttUsername, username, "mqtt.url names a user too; give the user in one place")
            }
            settings.mqtt.username = username.value
        }
        if let passwordFile = try located(.mqttPasswordFile, parse: ValueRules.nonEmpty) {
            guard settings.mqtt.url.password == nil else {
                throw fail(.mqttPasswordFile, passwordFile, "mqtt.url holds a password too; give the password in one place")
            }
            guard settings.mqtt.url.username != nil || settings.mqtt.username != nil else {
                throw fail(.mqttPasswordFile, passwordFile, "needs a user name: mqtt.username, or mqtts://user@host in mqtt.url")
            }
            settings.mqtt.passwordFile = passwordFile.value
        }
        let ca = try located(.mqttTLSCA, parse: ValueRules.nonEmpty)
        let client = try readPair(.mqttTLSCert, .mqttTLSKey)
        if !settings.mqtt.url.usesTLS {
            for key in [SettingKey.mqttTLSCA, .mqttTLSCert, .mqttTLSKey] {
                if let found = try located(key, parse: ValueRules.nonEmpty) {
                    throw fail(key, found, "is set but mqtt.url (\(settings.mqtt.url)) is not mqtts://; TLS settings need an mqtts:// URL")
                }
            }
        }
        settings.mqtt.tlsCA = ca?.value
        settings.mqtt.tlsClient = client.map { Settings.TLSFiles(certificate: $0.0, privateKey: $0.1) }
    }

    /// `limits.*`, each a count within its range.
    private func readLimits(into settings: inout Settings) throws(SettingsError) {
        if let value = try read(.limitsMaxSeries, parse: { ValueRules.count($0, within: 1...100_000_000, what: "series limit") }) {
            settings.limits.maxSeries = value
        }
        if let value = try read(.limitsMaxMetricsPerDevice, parse: { ValueRules.count($0, within: 1...1_000_000, what: "metrics-per-device limit") }) {
            settings.limits.maxMetricsPerDevice = value
        }
        // A payload's readings are one journal record: this bound keeps a record of the
        // longest names (283 bytes a reading) below the 256 MiB replay accepts.
        if let value = try read(.limitsMaxReadingsPerPayload, parse: { ValueRules.count($0, within: 1...900_000, what: "readings-per-payload limit") }) {
            settings.limits.maxReadingsPerPayload = value
        }
        if let value = try read(.limitsMaxQueryRows, parse: { ValueRules.count($0, within: 1...100_000_000, what: "query row limit") }) {
            settings.limits.maxQueryRows = value
        }
    }

    /// `mqtt.reconnect_min` and `mqtt.reconnect_max`, each at least 10 ms, and max not below
    /// min. The error names the key a source set (max when both are set) and says where the
    /// other key's value comes from.
    private func readReconnectDelays(into settings: inout Settings) throws(SettingsError) {
        // Keep the text as written, to quote it if the pair is out of order.
        let delay = { (text: String) in ValueRules.duration(text, minimum: .milliseconds(10)).map { (value: $0, text: text) } }
        let low = try located(.mqttReconnectMin, parse: delay)
        let high = try located(.mqttReconnectMax, parse: delay)
        if let low { settings.mqtt.reconnectMin = low.value.value }
        if let high { settings.mqtt.reconnectMax = high.value.value }
        guard settings.mqtt.reconnectMax < settings.mqtt.reconnectMin else { return }

        let minKey = SettingKey.mqttReconnectMin.rawValue
        let maxKey = SettingKey.mqttReconnectMax.rawValue
        if let high {
            let other = low.map { "\(ValueRules.quoted($0.value.text)) from \(source(of: $0.source, key: .mqttReconnectMin))" }
                ?? "\(DurationText.format(settings.mqtt.reconnectMin)) by default"
            throw SettingsError(
                source: source(of: high.source, key: .mqttReconnectMax),
                key: maxKey,
                problem: "\(ValueRules.quoted(high.value.text)) is shorter than \(minKey) (\(other)); \(maxKey) must be at least \(minKey)"
            )
        }
        if let low {
            throw SettingsError(
                source: source(of: low.source, key: .mqttReconnectMin),
                key: minKey,
                problem: "\(ValueRules.quoted(low.value.text)) is longer than \(maxKey) (\(DurationText.format(settings.mqtt.reconnectMax)) by default); "
                    + "\(minKey) must be at most \(maxKey)"
            )
        }
    }

    // MARK: Reading through ConfigReader

    /// Reads `key` and parses it with `parse`, which returns the problem (without source or
    /// key) when the text is not acceptable; nil when no source sets the key.
    ///
    /// The effective value comes from the merged reader (flags, then environment, then file:
    /// swift-configuration's precedence). The values it shadows are then read from each
    /// lower source alone and checked too, so a bad value anywhere is an error, not a time
    /// bomb that goes off the day the overriding variable is dropped.
    private func read<Value>(
        _ key: SettingKey,
        parse: (String) -> Result<Value, Problem>
    ) throws(SettingsError) -> Value? {
        try located(key, parse: parse)?.value
    }

    private func read<Value>(
        _ key: SettingKey,
        parseRaw: (RawValue) -> Result<Value, Problem>
    ) throws(SettingsError) -> Value? {
        try located(key, parseRaw: parseRaw)?.value
    }

    /// ``read(_:parse:)`` that also says which source (index in `kinds`) gave the value.
    private func located<Value>(
        _ key: SettingKey,
        parse: (String) -> Result<Value, Problem>
    ) throws(SettingsError) -> (value: Value, source: Int)? {
        try located(key, parseRaw: { raw in
            switch raw {
            case .text(let text): parse(text)
            case .list: .failure(Problem("must be a single value, not a list"))
            }
        })
    }

    private func located<Value>(
        _ key: SettingKey,
        parseRaw: (RawValue) -> Result<Value, Problem>
    ) throws(SettingsError) -> (value: Value, source: Int)? {
        guard let (raw, index) = try fetch(key, from: merged, firstSource: 0) else { return nil }
        let value = try parsed(raw, of: key, from: index, with: parseRaw)
        for lower in kinds.indices.dropFirst(index + 1) {
            if let (shadowed, _) = try fetch(key, from: singles[lower], firstSource: lower) {
                _ = try parsed(shadowed, of: key, from: lower, with: parseRaw)
            }
        }
        return (value, index)
    }

    private func parsed<Value>(
        _ raw: RawValue,
        of key: SettingKey,
        from index: Int,
        with parse: (RawValue) -> Result<Value, Problem>
    ) throws(SettingsError) -> Value {
        switch parse(raw) {
        case .success(let value): return value
        case .failure(let problem): throw SettingsError(source: source(of: index, key: key), key: key.rawValue, problem: problem.text)
        }
    }

    /// Looks `key` up through `reader`, whose providers are `kinds[firstSource...]` in
    /// order; returns the raw value and the index (in `kinds`) of the source that has it.
    ///
    /// Reads text. A list key (`store.resolutions`, `mqtt.topics`) may be a YAML list in the
    /// file: the YAML snapshot then refuses to give it as text (a provider error, which the
    /// reader's optional getter swallows but the recorder sees), and only then is it read as
    /// a list.
    private func fetch(
        _ key: SettingKey,
        from reader: ConfigReader,
        firstSource: Int
    ) throws(SettingsError) -> (RawValue, Int)? {
        let configKey = ConfigKey(key.rawValue)
        _ = recorder.take()
        let text = reader.string(forKey: configKey, isSecret: key.isSecret)
        switch lookup(recorder.take(), firstSource: firstSource) {
        case .absent:
            return nil
        case .found(let index):
            guard let text else { throw unreadable(key, from: index, "is not text") }
            return (.text(text), index)
        case .failed(let index, let error):
            guard key.listItemExample != nil, case .file = kinds[index] else { throw unreadable(key, from: index, error) }
            let list = reader.stringArray(forKey: configKey)
            guard case .found(let listIndex) = lookup(recorder.take(), firstSource: firstSource), let list else {
                throw unreadable(key, from: index, error)
            }
            return (.list(list), listIndex)
        }
    }

    private func unreadable(_ key: SettingKey, from index: Int, _ reason: Any) -> SettingsError {
        SettingsError(source: source(of: index, key: key), key: key.rawValue, problem: "cannot be read: \(reason)")
    }

    /// What one access found, by source index in `kinds`.
    private enum Lookup {
        case absent
        case found(Int)
        case failed(Int, any Error)
    }

    /// Which provider answered the access in `event`. A reader queries its providers in
    /// order and stops at the first value or error, so result `i` is provider `i`, that is
    /// source `firstSource + i`.
    private func lookup(_ event: AccessEvent?, firstSource: Int) -> Lookup {
        guard let event else { return .absent }
        for (offset, providerResult) in event.providerResults.enumerated() where firstSource + offset < kinds.count {
            switch providerResult.result {
            case .failure(let error):
                return .failed(firstSource + offset, error)
            case .success(let result) where result.value != nil:
                return .found(firstSource + offset)
            case .success:
                continue
            }
        }
        return .absent
    }

    private func source(of index: Int, key: SettingKey) -> SettingsError.Source {
        switch kinds[index] {
        case .flags: .flag(key.flag)
        case .environment: .environment(key.environmentVariable)
        case .file(let path): .file(path)
        }
    }

    // MARK: Checking names

    private static func checkFlagKeys(_ flags: [String: String]) throws(SettingsError) {
        for name in flags.keys.sorted() where SettingKey(rawValue: name) == nil {
            throw SettingsError(
                source: .flag(name),
                key: nil,
                problem: "unknown setting \"\(name)\"; flags are passed by key: \(SettingKey.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
    }

    /// Rejects a `SENSORHUB_<SECTION>_*` (or bare `SENSORHUB_<SECTION>`) variable that is not
    /// a setting: that namespace belongs to settings, so such a name is a typo. Other names
    /// are left alone (`SENSORHUB_BIN` and the like are used by tools and tests).
    private static func checkEnvironmentNames(_ environment: [String: String]) throws(SettingsError) {
        let accepted = SettingKey.allCases.map(\.environmentVariable)
        let acceptedSet = Set(accepted)
        let sectionNames = SettingKey.sections.map { "SENSORHUB_" + $0.uppercased() }
        for name in environment.keys.sorted() where name.hasPrefix("SENSORHUB_") && !acceptedSet.contains(name) {
            let inSettingNamespace = sectionNames.contains { name == $0 || name.hasPrefix($0 + "_") }
            guard inSettingNamespace else { continue }
            throw SettingsError(
                source: .environment(name),
                key: nil,
                problem: "unknown setting variable; accepted names are \(accepted.joined(separator: ", "))"
            )
        }
    }
}
