-- SensorHub schema v6: the parts of identified batches taken (HTTP header
-- SensorHub-Batch, sent by `sensorhub import`), so a batch sent again after a restart
-- counts none of its readings twice.

-- One row per batch: its stream and ordinal, the parts taken as "shards:index" items
-- separated by commas (a part is the batch's readings whose series hash modulo `shards`
-- is `index`), and when the last part was taken. Written in the flush transaction that
-- stores those readings; rows older than the ledger's retention are deleted.
CREATE TABLE batch_ledger (
    stream    TEXT    NOT NULL,
    ordinal   INTEGER NOT NULL,
    parts     TEXT    NOT NULL,
    taken_us  INTEGER NOT NULL,
    PRIMARY KEY (stream, ordinal)
) WITHOUT ROWID;

CREATE INDEX batch_ledger_by_time ON batch_ledger (taken_us);
