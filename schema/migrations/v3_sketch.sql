-- SensorHub schema v3: a quantile sketch per bucket, for percentiles.

-- QuantileSketch's versioned encoding (DDSketch, 1% relative accuracy), merged like the
-- other columns. NULL in buckets written before v3: windows holding such a bucket report
-- no percentiles rather than percentiles of part of their readings.
ALTER TABLE buckets ADD COLUMN sketch BLOB;
