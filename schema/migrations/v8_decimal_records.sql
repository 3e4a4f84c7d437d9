-- SensorHub schema v8: chunk records of decimal values (ChunkCodec's form 4). No table
-- changes: records of the earlier forms stay as they are and are read as before, and
-- flushes write form 4 from now on. The version is what makes a build that does not know
-- the form refuse this file ("written by a newer SensorHub") instead of reading its new
-- records as damaged chunks.
SELECT 1;
