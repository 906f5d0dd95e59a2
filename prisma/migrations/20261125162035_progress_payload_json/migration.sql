-- Progress payloads are stored as `json` (validated text) instead of `jsonb`: ingest writes
-- thousands per second and nothing queries inside them, and jsonb conversion was about half of
-- PostgreSQL's CPU per stored event.
-- AlterTable
ALTER TABLE "ProgressEvent" ALTER COLUMN "payload" SET DATA TYPE JSON;

-- Payloads (~1.5 KB) cross the TOAST threshold: lz4 compresses them at a fraction of the CPU
-- cost of the default pglz (needs PostgreSQL 14+ built with lz4, as PGDG and Debian builds are).
-- No statement here may contain a semicolon inside it: the offline runner splits on them.
ALTER TABLE "ProgressEvent" ALTER COLUMN "payload" SET COMPRESSION lz4;
