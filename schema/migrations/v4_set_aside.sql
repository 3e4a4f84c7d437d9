-- SensorHub schema v4: buckets a flush could not store, kept instead of retried forever.

-- One row per bucket delta that a flush set aside (its series, window and why), with its
-- statistics in BucketStats' binary encoding, so nothing acknowledged is thrown away:
-- an operator can inspect it, and /healthz reports the store as degraded while rows are
-- here. The rest of that flush was stored.
CREATE TABLE set_aside_buckets (
    id            INTEGER PRIMARY KEY,
    device        TEXT    NOT NULL,
    metric        TEXT    NOT NULL,
    resolution_s  INTEGER NOT NULL,
    start_us      INTEGER NOT NULL,
    reason        TEXT    NOT NULL,
    stats         BLOB    NOT NULL,
    set_aside_us  INTEGER NOT NULL
);
