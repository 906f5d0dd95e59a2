-- Alert histories are stored as `json` (validated text) instead of `jsonb`: the leader saves a
-- sixth of them every evaluation (~0.8 MB at 1,000 queries x 16 partitions) and nothing queries
-- inside them, and building jsonb was most of that statement's server time (38-52 ms against 14-17 ms
-- for json with lz4, measured on the local stack).
-- AlterTable
ALTER TABLE "AlertQueryHistory" ALTER COLUMN "state" SET DATA TYPE JSON USING "state"::json;

-- Each history (~4.7 KB) crosses the TOAST threshold: lz4 instead of the default pglz, as for
-- ProgressEvent.payload. No statement here may contain a semicolon inside it (the offline runner
-- splits on them).
ALTER TABLE "AlertQueryHistory" ALTER COLUMN "state" SET COMPRESSION lz4;
