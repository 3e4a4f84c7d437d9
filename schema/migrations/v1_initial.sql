-- SensorHub schema v1: series, their aggregated buckets, and the stored resolutions.
-- Timestamps are microseconds since the Unix epoch (INTEGER); resolutions are seconds.

-- Marks the file as a SensorHub database ('SHub'), so a foreign SQLite file is refused.
PRAGMA application_id = 1397257570; -- 0x53487562

-- One row per (device, metric). `readings` counts counted readings (duplicates excluded),
-- `last_seen_us` is the latest event time seen.
CREATE TABLE series (
    id            INTEGER PRIMARY KEY,
    device        TEXT    NOT NULL,
    metric        TEXT    NOT NULL,
    readings      INTEGER NOT NULL DEFAULT 0,
    last_seen_us  INTEGER NOT NULL,
    UNIQUE (device, metric)
);

-- One row per series, resolution and epoch-aligned window [start_us, start_us + resolution).
-- The columns are BucketStats' mergeable moments: merging a late delta is Chan's formula.
-- The primary key serves the per-series range scan of every query.
CREATE TABLE buckets (
    series_id     INTEGER NOT NULL REFERENCES series (id),
    resolution_s  INTEGER NOT NULL,
    start_us      INTEGER NOT NULL,
    count         INTEGER NOT NULL,
    sum           REAL    NOT NULL,
    min           REAL    NOT NULL,
    max           REAL    NOT NULL,
    mean          REAL    NOT NULL,
    m2            REAL    NOT NULL,
    first_ts_us   INTEGER NOT NULL,
    first         REAL    NOT NULL,
    last_ts_us    INTEGER NOT NULL,
    last          REAL    NOT NULL,
    PRIMARY KEY (series_id, resolution_s, start_us)
) WITHOUT ROWID;

-- The resolutions the daemon aggregates into; queries pick among these.
CREATE TABLE resolutions (
    seconds       INTEGER PRIMARY KEY
);
