-- SensorHub on PostgreSQL, version 1: the same data as the SQLite schema at v7, for one
-- or several daemons sharing the database. Times are BIGINT microseconds since the Unix
-- epoch (*_us), resolutions seconds; chunks hold the same bytes as in SQLite (ChunkCodec).

CREATE TABLE series (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device        TEXT    NOT NULL,
    metric        TEXT    NOT NULL,
    readings      BIGINT  NOT NULL DEFAULT 0,
    last_seen_us  BIGINT  NOT NULL,
    -- The shared de-duplication state of the series (SeqWindow's encoding), changed only
    -- by a flush that holds this row's lock.
    seq_window    BYTEA,
    UNIQUE (device, metric)
);

-- One row per series, resolution and 32 consecutive windows.
CREATE TABLE chunks (
    series_id       BIGINT  NOT NULL REFERENCES series (id),
    resolution_s    BIGINT  NOT NULL,
    chunk_start_us  BIGINT  NOT NULL,
    data            BYTEA   NOT NULL,
    PRIMARY KEY (series_id, resolution_s, chunk_start_us)
);

CREATE TABLE resolutions (
    seconds  BIGINT PRIMARY KEY
);

-- The last flush each daemon committed: a flush retried after its commit's answer was
-- lost is recognised and not merged twice.
CREATE TABLE flush_commits (
    instance    TEXT    NOT NULL PRIMARY KEY,
    last_flush  UUID    NOT NULL
);

-- How far each daemon's journal shard is stored: per daemon (its instance name) and shard.
CREATE TABLE journal_checkpoints (
    instance  TEXT    NOT NULL,
    shard     INTEGER NOT NULL,
    position  BIGINT  NOT NULL,
    PRIMARY KEY (instance, shard)
);

CREATE TABLE set_aside_buckets (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device        TEXT    NOT NULL,
    metric        TEXT    NOT NULL,
    resolution_s  BIGINT  NOT NULL,
    start_us      BIGINT  NOT NULL,
    reason        TEXT    NOT NULL,
    stats         BYTEA   NOT NULL,
    set_aside_us  BIGINT  NOT NULL
);

CREATE TABLE batch_ledger (
    stream    TEXT    NOT NULL,
    ordinal   BIGINT  NOT NULL,
    parts     TEXT    NOT NULL,
    taken_us  BIGINT  NOT NULL,
    PRIMARY KEY (stream, ordinal)
);

CREATE INDEX batch_ledger_by_time ON batch_ledger (taken_us);

CREATE TABLE rule_positions (
    name      TEXT    NOT NULL PRIMARY KEY,
    until_us  BIGINT  NOT NULL
);

CREATE TABLE alert_states (
    rule                TEXT    NOT NULL,
    device              TEXT    NOT NULL,
    metric              TEXT    NOT NULL,
    phase               TEXT    NOT NULL,
    streak              BIGINT  NOT NULL,
    streak_start_us     BIGINT  NOT NULL,
    last_window_end_us  BIGINT,
    since_us            BIGINT  NOT NULL,
    value               DOUBLE PRECISION,
    PRIMARY KEY (rule, device, metric)
);

CREATE TABLE outbox (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel     TEXT    NOT NULL,
    rule        TEXT    NOT NULL,
    topic       TEXT,
    body        TEXT    NOT NULL,
    created_us  BIGINT  NOT NULL
);

CREATE INDEX outbox_by_channel ON outbox (channel, id);
