// Issue 19 on the real broker: two engine instances under a tight query-wide rate limit, one
// partition far hotter than the others. The instance owning the hot partition takes the cap in
// proportion to its backlog (libs/scaling read-share.ts), not its even share by partition count,
// its backlog drains, and every record reaches the sink exactly once.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { engineGroupId, type StreamingQueryProgress } from '@sluice/contracts';
import { ensureTopics, offsetBounds } from '@sluice/kafka';
import { EngineSuite, eventually, progressOf, readAll, tempDir, writeSpec } from './support/engine-harness';

const suite = new EngineSuite('hot-partition-int');
const PARTITIONS = 4;
const RATE_LIMIT = 200;
/** Each instance owns 2 of 4 partitions: its share by partition count. */
const EVEN_SHARE = (RATE_LIMIT * 2) / PARTITIONS;
const HOT = 3000;
const COLD = 100;
const WARM_UP = 10;

/** The source partitions an instance reported owning in a progress event. */
const owned = (e: StreamingQueryProgress, topic: string): string[] =>
  Object.keys(((e.sources[0]?.endOffset ?? {}) as Record<string, Record<string, number>>)[topic] ?? {});

async function produce(topic: string, partition: number, from: number, count: number): Promise<void> {
  for (let i = 0; i < count; i += 500) {
    const n = Math.min(500, count - i);
    await suite.producer.send({
      topic,
      messages: Array.from({ length: n }, (_, k) => ({
        partition,
        value: JSON.stringify({ id: from + i + k }),
      })),
    });
  }
}

describe('rate limit shared by backlog across instances', () => {
  it('lets the instance owning a hot partition read more than its even share until its backlog drains, losing nothing', async () => {
    const input = `it-hot-in-${randomUUID()}`;
    const output = `it-hot-out-${randomUUID()}`;
    const queryId = `it-hot-${randomUUID()}`;
    await ensureTopics(suite.admin, [{ topic: input, numPartitions: PARTITIONS }]);
    const dir = tempDir('hot');
    const spec = writeSpec(
      dir,
      `name: it-hot
sources:
  events:
    kafka: { topic: ${input}, startingOffsets: earliest }
    format: json
    schema: { id: long }
sql: SELECT id FROM events
sink:
  kafka: { topic: ${output} }
outputMode: append
trigger: { processingTime: 200 milliseconds }
options: { maxOffsetsPerTrigger: ${RATE_LIMIT} }
`,
    );
    const checkpoint = path.join(dir, 'checkpoint');
    const progress = await progressOf(suite.kafka, suite.admin, queryId);
    const a = suite.launch({ spec, checkpoint, queryId, instance: 'a' });
    const b = suite.launch({ spec, checkpoint, queryId, instance: 'b' });
    // A warm-up on every partition: each gets a committed group offset, and the group settles on
    // two members (each instance's latest report lists 2 of the 4 partitions, all read).
    for (let p = 0; p < PARTITIONS; p++) await produce(input, p, p * WARM_UP, WARM_UP);
    await eventually(
      async () => {
        const latest = ['a', 'b'].map((i) => progress.events.filter((e) => e.sluice?.instance === i).at(-1));
        if (latest.some((e) => !e || owned(e, input).length !== 2)) return false;
        const ends = latest.flatMap((e) =>
          Object.values((e!.sources[0]!.endOffset as Record<string, Record<string, number>>)[input]!),
        );
        return ends.length === PARTITIONS && ends.every((o) => o === WARM_UP);
      },
      120_000,
      'both instances owning 2 partitions with the warm-up read',
    );
    const burstAt = progress.events.length;
    // Partition 0 hot: 30× the others' backlog.
    let id = PARTITIONS * WARM_UP;
    await produce(input, 0, id, HOT);
    id += HOT;
    for (let p = 1; p < PARTITIONS; p++) {
      await produce(input, p, id, COLD);
      id += COLD;
    }

    const rows = (await readAll(suite.kafka, output, id, 180_000)).map(
      (r) => (JSON.parse(r.value) as { id: number }).id,
    );
    expect(rows).toHaveLength(id);
    expect(new Set(rows).size).toBe(id);
    // The hot partition's backlog drained: the group's committed offsets reached the log end.
    const latest = await offsetBounds(suite.admin, input);
    await eventually(
      async () => {
        const [committed] = await suite.admin.fetchOffsets({
          groupId: engineGroupId(queryId),
          topics: [input],
        });
        return committed!.partitions.every((p) => Number(p.offset) === latest.get(p.partition)!.latest);
      },
      60_000,
      'committed offsets at the log end',
    );

    const hotBatches = progress.events
      .slice(burstAt)
      .filter((e) => e.numInputRows > 0 && e.sluice?.tasks?.includes(`src.${input}.0`));
    // Still two members, two partitions each, while the hot instance read more than its even share.
    const wide = hotBatches.filter((e) => owned(e, input).length === 2 && e.numInputRows > EVEN_SHARE);
    expect(wide.length).toBeGreaterThan(0);
    // The cap holds per instance (the sum across instances is the unit tests' matter).
    for (const e of progress.events.slice(burstAt)) expect(e.numInputRows).toBeLessThanOrEqual(RATE_LIMIT);

    await progress.stop();
    a.child.kill('SIGTERM');
    b.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    expect(await b.exited).toBe(0);
  }, 420_000);
});
