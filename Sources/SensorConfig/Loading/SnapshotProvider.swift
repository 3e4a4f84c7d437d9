internal import Configuration

/// A `ConfigProvider` serving one fixed snapshot, the synchronous twin of
/// `FileProvider<YAMLSnapshot>` (whose initializers are all `async`). Lookups go straight to
/// the snapshot; watching yields that one snapshot, as `FileProvider` does.
struct SnapshotProvider<Snapshot: ConfigSnapshot>: ConfigProvider {
    let snapshotValue: Snapshot

    init(snapshot: Snapshot) { self.snapshotValue = snapshot }

    var providerName: String { snapshotValue.providerName }

    func value(forKey key: AbsoluteConfigKey, type: ConfigType) throws -> LookupResult {
        try snapshotValue.value(forKey: key, type: type)
    }

    func fetchValue(forKey key: AbsoluteConfigKey, type: ConfigType) async throws -> LookupResult {
        try value(forKey: key, type: type)
    }

    nonisolated(nonsending) func watchValue<Return: ~Copyable>(
        forKey key: AbsoluteConfigKey,
        type: ConfigType,
        updatesHandler: nonisolated(nonsending) (
            _ updates: ConfigUpdatesAsyncSequence<Result<LookupResult, any Error>, Never>
        ) async throws -> Return
    ) async throws -> Return {
        try await watchValueFromValue(forKey: key, type: type, updatesHandler: updatesHandler)
    }

    func snapshot() -> any ConfigSnapshot { snapshotValue }

    nonisolated(nonsending) func watchSnapshot<Return: ~Copyable>(
        updatesHandler: nonisolated(nonsending) (_ updates: ConfigUpdatesAsyncSequence<any ConfigSnapshot, Never>) async throws -> Return
    ) async throws -> Return {
        try await watchSnapshotFromSnapshot(updatesHandler: updatesHandler)
    }
}
