/// Where SensorHub keeps its aggregates: everything the pipeline, the rule engine and the
/// query surfaces need of a database, and nothing of how one engine keeps it.
///
/// ``SQLiteStore`` is the embedded implementation. The pure parts every implementation
/// shares (window planning and merging, chunk encoding, sketches) stay outside the seam,
/// so the same readings give the same rows whichever store holds them.
///
/// The seam is three protocols, so that each consumer names only what it uses:
/// ``AggregateReader`` (queries, `devices`, alerts: the CLI's `--db` and the HTTP routes),
/// ``FlushStore`` (the pipeline's writes, recovery and retention) and ``RuleStore`` (the
/// rule engine's state and outbox).
public protocol SensorStore: FlushStore, RuleStore {}
