// The upgrade suites' input and oracle: click records with a known event time, a producer that
// sends them at a steady pace, and the per-(window, user) counts recomputed from the records, to
// compare with what a windowed query wrote to its PostgreSQL table.
import type { Pool } from 'pg';
import type { Kafka } from 'kafkajs';

export interface Click {
  id: number;
  user_id: string;
  amount: number;
  ts: string;
}

const BASE = Date.UTC(2026, 0, 1);

/** Record `id`: seven users in turn, 50 ms of event time apart (a minute window holds 1,200). */
export const click = (id: number): Click => ({
  id,
  user_id: `u${id % 7}`,
  amount: id % 100,
  ts: new Date(BASE + id * 50).toISOString(),
});

export type WindowCounts = Map<string, { clicks: number; amount: number }>;

/** Sends clicks 0, 1, 2, … to one topic, keyed by user (so spread over its partitions). */
export class ClickProducer {
  /** How many records have been sent: the next one's id. */
  produced = 0;

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
  ) {}

  /** Sends `n` more records, about `perSecond` a second. */
  async produce(n: number, perSecond: number): Promise<void> {
    const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const chunk = Math.max(1, Math.round(perSecond / 5));
    for (let sent = 0; sent < n; sent += chunk) {
      const ids = Array.from({ length: Math.min(chunk, n - sent) }, (_, i) => this.produced + i);
      await producer.send({
        topic: this.topic,
        messages: ids.map((id) => ({ key: click(id).user_id, value: JSON.stringify(click(id)) })),
      });
      this.produced += ids.length;
      await new Promise((r) => setTimeout(r, 200));
    }
    await producer.disconnect();
  }
}

/**
 * Count and sum per (window start, user), recomputed from the records: tumbling windows of
 * `windowMs`, or sliding ones every `slideMs` (each record in every window [start, start + size)
 * holding its time, starts at multiples of the slide).
 */
export function expectedWindows(ids: Iterable<number>, windowMs: number, slideMs = windowMs): WindowCounts {
  const out: WindowCounts = new Map();
  for (const id of ids) {
    const c = click(id);
    const ms = Date.parse(c.ts);
    for (let start = ms - (ms % slideMs); start > ms - windowMs; start -= slideMs) {
      const key = `${new Date(start).toISOString()}|${c.user_id}`;
      const e = out.get(key) ?? { clicks: 0, amount: 0 };
      e.clicks++;
      e.amount += c.amount;
      out.set(key, e);
    }
  }
  return out;
}

/** Ids 0 … n-1. */
export const firstIds = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** A windowed query's table (window_start, user_id, clicks, amount); empty while it does not exist. */
export async function windowRows(db: Pool, table: string): Promise<WindowCounts> {
  const r = await db
    .query<{ window_start: Date; user_id: string; clicks: string; amount: string }>(`SELECT * FROM ${table}`)
    .catch(() => ({ rows: [] }));
  return new Map(
    r.rows.map((row) => [
      `${row.window_start.toISOString()}|${row.user_id}`,
      { clicks: Number(row.clicks), amount: Number(row.amount) },
    ]),
  );
}

/** Clicks counted over every window (a record in two sliding windows counts twice). */
export const totalClicks = (rows: WindowCounts): number =>
  [...rows.values()].reduce((n, r) => n + r.clicks, 0);

/** The clicks topic as a query's source: the YAML lines from `name:` to `sql: |`. */
export function clickSourceLines(name: string, topic: string): string[] {
  return [
    `name: ${name}`,
    'sources:',
    '  clicks:',
    `    kafka: { topic: ${topic}, startingOffsets: earliest }`,
    '    format: json',
    '    schema: { id: long, user_id: string, amount: long, ts: timestamp }',
    'sql: |',
  ];
}

/** What follows a windowed query's sink: update mode, a 500 ms trigger, 4 shuffle partitions. */
export const CLICK_QUERY_FOOTER = [
  'outputMode: update',
  'trigger: { processingTime: 500 milliseconds }',
  'options: { numShufflePartitions: 4 }',
  '',
];

/**
 * The upgrade suites' query: clicks and their amount per user and `window` (default a minute),
 * keyed by (window_start, user_id), into a PostgreSQL `table` (through `connection` if given).
 */
export function clickWindowSpec(o: {
  name: string;
  topic: string;
  table: string;
  where?: string;
  window?: string;
  connection?: string;
}): string {
  return [
    ...clickSourceLines(o.name, o.topic),
    '  SELECT window.start AS window_start, user_id, count(*) AS clicks, sum(amount) AS amount',
    `  FROM clicks${o.where ? ` WHERE ${o.where}` : ''}`,
    `  GROUP BY window(ts, '${o.window ?? '1 minute'}'), user_id`,
    'sink:',
    `  postgres: { table: ${o.table}, key: [window_start, user_id]${o.connection ? `, connection: ${o.connection}` : ''} }`,
    ...CLICK_QUERY_FOOTER,
  ].join('\n');
}
