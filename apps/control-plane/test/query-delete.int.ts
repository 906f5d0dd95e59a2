// Deleting a query removes what Sluice created for it in Kafka: its dead-letter and repartition
// topics (they were left behind, one pair per deleted query) and its file sources' ownership topics.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dlqTopic, fileSourceTopicPrefix, repartitionTopic } from '@sluice/contracts';
import { createKafka, ensureTopics, parseBrokers } from '@sluice/kafka';
import { eventsSpec, eventually, forgetTestQueries, startTestApp, type TestApp } from './support/test-app';

const suffix = randomUUID().slice(0, 8);
const kafka = createKafka({
  brokers: parseBrokers(process.env.KAFKA_BROKERS ?? ''),
  clientId: 'it-query-delete',
});
let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});

afterAll(async () => {
  await t?.close();
  await forgetTestQueries(suffix);
});

describe('query delete', () => {
  it("deletes the query's .dlq, .repartition and .files.* topics", async () => {
    const created = await t.call<{ id: string }>(
      'POST',
      '/api/v1/queries?deploy=false',
      eventsSpec(`del-${suffix}`, `it-del-in-${suffix}`, `it-del-out-${suffix}`),
    );
    expect(created.status).toBe(201);
    const id = created.body.id;
    const admin = kafka.admin();
    await admin.connect();
    try {
      // As an engine would have made them.
      await ensureTopics(admin, [
        { topic: dlqTopic(id), numPartitions: 1 },
        { topic: repartitionTopic(id), numPartitions: 2 },
        { topic: `${fileSourceTopicPrefix(id)}0123456789abcdef`, numPartitions: 1 },
      ]);
      const del = await t.call<{ id: string }>('DELETE', `/api/v1/queries/${id}`);
      expect(del.status).toBe(202);
      const op = await eventually(
        () =>
          t
            .call<{ state: string; steps: Array<{ name: string; message?: string }> }>(
              'GET',
              `/api/v1/operations/${del.body.id}`,
            )
            .then((r) => r.body),
        (o) => o.state === 'SUCCEEDED' || o.state === 'FAILED',
        60_000,
        'delete operation finished',
      );
      expect(op.state).toBe('SUCCEEDED');
      expect(op.steps.find((s) => s.name === 'delete query')?.message).toContain(dlqTopic(id));
      const left = await eventually(
        () => admin.listTopics(),
        (topics) =>
          !topics.includes(dlqTopic(id)) &&
          !topics.includes(repartitionTopic(id)) &&
          !topics.some((topic) => topic.startsWith(fileSourceTopicPrefix(id))),
        30_000,
        'topics gone',
      );
      expect(left).not.toContain(dlqTopic(id));
      expect(left).not.toContain(repartitionTopic(id));
      expect(left.filter((topic) => topic.startsWith(fileSourceTopicPrefix(id)))).toEqual([]);
    } finally {
      await admin.disconnect();
    }
  });
});
