-- SensorHub schema v7: rules, alerts and forwarding (CONTRACT §7). What a restart must
-- neither repeat nor lose: how far each rule and each forwarded resolution has handled
-- closed windows, where each rule stands for each series, and the deliveries (webhook
-- posts, MQTT messages, forwarded rows) their targets have not acknowledged yet. A rule
-- evaluation commits all three in one transaction.

-- Windows ending at or before `until_us` were judged (a rule, by name) or published
-- (`forward:<resolution>`, e.g. `forward:1m`).
CREATE TABLE rule_positions (
    name      TEXT    NOT NULL PRIMARY KEY,
    until_us  INTEGER NOT NULL
) WITHOUT ROWID;

-- Where a rule stands for a series: `phase` quiet (never fired), firing or resolved;
-- the streak of consecutive closed windows meeting its condition, from `streak_start_us`
-- to `last_window_end_us`; since when the phase holds and the value behind it. Rows of
-- quiet series without a streak are not kept; resolved ones go after alerts.keep_resolved.
CREATE TABLE alert_states (
    rule                TEXT    NOT NULL,
    device              TEXT    NOT NULL,
    metric              TEXT    NOT NULL,
    phase               TEXT    NOT NULL,
    streak              INTEGER NOT NULL,
    streak_start_us     INTEGER NOT NULL,
    last_window_end_us  INTEGER,
    since_us            INTEGER NOT NULL,
    value               REAL,
    PRIMARY KEY (rule, device, metric)
) WITHOUT ROWID;

-- Deliveries waiting for their target, in order (`id`) per channel: `webhook <url>` or
-- `mqtt`. A row is deleted once its target acknowledged it (a 2xx, a PUBACK).
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    channel     TEXT    NOT NULL,
    rule        TEXT    NOT NULL,
    topic       TEXT,
    body        TEXT    NOT NULL,
    created_us  INTEGER NOT NULL
);

CREATE INDEX outbox_by_channel ON outbox (channel, id);
