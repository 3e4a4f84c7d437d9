-- SensorHub schema v2: what the ingest journal needs to make recovery exact.

-- Per journal shard, the journal position (byte offset in that shard's journal) that the
-- buckets stored so far cover. Written in the same transaction as the buckets, so on
-- start the journal is replayed from exactly here: nothing counted twice, nothing lost.
CREATE TABLE journal_checkpoints (
    shard         INTEGER PRIMARY KEY,
    position      INTEGER NOT NULL
);

-- The de-duplication state of a series that sends seq numbers (SeqWindow's versioned
-- encoding: the highest seq counted and a bitmap of the 1024 below it), as of the
-- checkpoint. NULL for series without seq.
ALTER TABLE series ADD COLUMN seq_window BLOB;
