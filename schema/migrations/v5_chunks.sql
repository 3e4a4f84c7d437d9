-- SensorHub schema v5: buckets packed into chunks, one row per series, resolution and 32
-- windows, instead of one row per bucket.

-- `data` holds the chunk's buckets in window order (SensorStore's ChunkCodec: per bucket
-- its window, count, event-time offsets, sum, min, max, mean, M2, first, last and quantile
-- sketch). A flush writes one row per chunk it touches; a query reads one row per 32
-- windows. The rows of `buckets` are moved here by the migration, which then drops it.
CREATE TABLE chunks (
    series_id       INTEGER NOT NULL REFERENCES series (id),
    resolution_s    INTEGER NOT NULL,
    chunk_start_us  INTEGER NOT NULL,
    data            BLOB    NOT NULL,
    PRIMARY KEY (series_id, resolution_s, chunk_start_us)
) WITHOUT ROWID;
