// A trigger in which one task's batch fails while another's commits reports the failure and only
// the rows that committed. The failed batch's records are read again by the batch that commits
// them, so counting them in the failed trigger too counted them twice: in every metric and in
// the capacity model that read `numInputRows` (found live: at each scale-out the old owner's
// batch fenced by the new owners reported its 40,144 rows as read in 2 s). The failure is a
// PostgreSQL trigger on the sink table that refuses one row exactly once (a sequence, which a
// rolled-back transaction does not undo). Real Kafka + PostgreSQL.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Pool } from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureTopics } from '@sluice/kafka';
import { EngineSuite, eventually, progressOf, tempDir, writeSpec } from './support/engine-harness';

const suite = new EngineSuite('failed-trigger-int');
const pool = new Pool({ connectionString: process.env.DATABASE_URL });
const table = `it_failed_trigger_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
afterAll(async () => {
  await pool.query(`DROP TABLE IF EXISTS ${table}`);
  await pool.query(`DROP FUNCTION IF EXISTS ${table}_refuse_once()`);
  await pool.query(`DROP SEQUENCE IF EXISTS ${table}_attempts`);
  await pool.end();
});

describe('a trigger with a failed batch', () => {
  it('reports the error and only the committed rows; every record is counted once', async () => {
    const input = `it-failed-trigger-${randomUUID()}`;
    const queryId = `it-${randomUUID()}`;
    await ensureTopics(suite.admin, [{ topic: input, numPartitions: 2 }]);
    await pool.query(`CREATE TABLE ${table} (id bigint PRIMARY KEY, user_id text)`);
    await pool.query(`CREATE SEQUENCE ${table}_attempts`);
    // Not SQLSTATE class 22/23/54: not a row's data (pg-errors.ts), so the task's batch fails.
    await pool.query(`
      CREATE FUNCTION ${table}_refuse_once() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.id = 1 THEN
          IF nextval('${table}_attempts') = 1 THEN
            RAISE EXCEPTION 'injected failure of the batch holding id 1';
          END IF;
        END IF;
        RETURN NEW;
      END $$`);
    await pool.query(
      `CREATE TRIGGER refuse_once BEFORE INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION ${table}_refuse_once()`,
    );
    // Even ids on partition 0, odd ones (id 1 among them) on partition 1: two tasks, one fails.
    const total = 100;
    await suite.producer.send({
      topic: input,
      messages: Array.from({ length: total }, (_, id) => ({
        partition: id % 2,
        value: JSON.stringify({ id, user_id: `u${id % 7}` }),
      })),
    });
    const progress = await progressOf(suite.kafka, suite.admin, queryId);
    const dir = tempDir('failed-trigger');
    const spec = writeSpec(
      dir,
      `name: it-failed-trigger
sources:
  clicks:
    kafka: { topic: ${input}, startingOffsets: earliest }
    format: json
    schema: { id: long, user_id: string }
sql: SELECT id, user_id FROM clicks
sink:
  postgres: { table: ${table}, key: [id] }
outputMode: append
trigger: { processingTime: 100 milliseconds }
`,
    );
    const engine = suite.launch({ spec, checkpoint: path.join(dir, 'checkpoint'), queryId, instance: 'a' });
    const landed = async () =>
      Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);
    await eventually(async () => (await landed()) >= total, 60_000, 'every row in the sink');
    const inputRows = () => progress.events.reduce((n, e) => n + e.numInputRows, 0);
    await eventually(async () => inputRows() >= total, 30_000, 'the progress of every committed batch');
    await new Promise((r) => setTimeout(r, 1500)); // a double count would arrive now
    await progress.stop();

    expect(await landed()).toBe(total);
    expect(engine.output()).toContain('injected failure of the batch holding id 1');
    const failed = progress.events.filter((e) => e.sluice?.error?.includes('injected failure'));
    expect(failed).toHaveLength(1);
    // The trigger's other task committed its 50 even rows: those, and only those, are reported.
    expect(failed[0]!.numInputRows).toBe(total / 2);
    // Its end offsets advance partition 0 only; partition 1 stays where its last commit left it.
    const end = (failed[0]!.sources[0]!.endOffset as Record<string, Record<string, number>>)[input]!;
    expect(end['0']).toBe(total / 2);
    expect(end['1'] ?? 0).toBe(0);
    expect(inputRows()).toBe(total);

    engine.child.kill('SIGTERM');
    expect(await engine.exited).toBe(0);
  }, 120_000);
});
