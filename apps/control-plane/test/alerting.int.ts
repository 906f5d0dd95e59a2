// Built-in alerting on the real stack: a real engine whose rate limit is lowered below its input
// builds time lag; the leader's evaluator takes the rule through pending → firing after `for`;
// a real HTTP receiver on loopback gets Alertmanager's v4 payload with a valid HMAC signature;
// raising the limit drains the lag and a resolved notification follows; a silence suppresses;
// a receiver down for 60 s gets the notification exactly once afterwards; a stopped (SIGSTOP)
// engine is Burrow's STOP. Evaluation runs every second and `for` is seconds, not minutes.
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueryHistory } from '@sluice/alerting';
import { createKafka, ensureTopics, parseBrokers } from '@sluice/kafka';
import type { Producer } from 'kafkajs';
import { cleanUp } from './support/cleanup';
import { killEngines } from './support/control-plane-process';
import { alertingEnv, LoopbackReceiver, signedWith } from './support/loopback-receiver';
import { createToken, eventually, forgetTestQueries, startTestApp, type TestApp } from './support/test-app';

const suffix = randomUUID().slice(0, 8);
const topic = `it-alert-${suffix}`;
const queryName = `alert-${suffix}`;
const ruleName = `ItTimeLag_${suffix}`;
const stopRule = `ItConsumerStop_${suffix}`;
const DOWN_MS = 60_000;
// Rules of this test belong to its cluster: another control plane on the same database (a
// concurrent test) leaves them alone.
const cluster = `it-alert-${suffix}`;

/** Alertmanager's v4 webhook body, the parts this test reads. */
interface Notification {
  version: string;
  status: string;
  groupKey: string;
  receiver: string;
  groupLabels: Record<string, string>;
  alerts: Array<{ status: string; labels: Record<string, string>; annotations: Record<string, string> }>;
}

let t: TestApp;
let producer: Producer;
let producing: NodeJS.Timeout | undefined;
let queryId = '';
let secret = '';
let viewer = '';
const receiver = new LoopbackReceiver<Notification>();

beforeAll(async () => {
  const kafka = createKafka({
    brokers: parseBrokers(process.env.KAFKA_BROKERS ?? ''),
    clientId: 'it-alerting',
  });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [{ topic, numPartitions: 1 }]);
  await admin.disconnect();
  producer = kafka.producer();
  await producer.connect();
  // ~100 records/s for the whole test: the input the rate limit is lowered below.
  let n = 0;
  producing = setInterval(() => {
    const messages = Array.from({ length: 10 }, () => ({
      value: JSON.stringify({ user_id: `u${n % 7}`, amount: n++ }),
    }));
    producer.send({ topic, messages }).catch(() => undefined);
  }, 100);
  await receiver.start();
  t = await startTestApp(
    alertingEnv(cluster, suffix, {
      SLUICE_ALERT_EVAL_INTERVAL_MS: '1000',
      SLUICE_ALERT_RETRY_BASE_MS: '1000',
      SLUICE_METRICS_ACCESS: 'open',
    }),
  );
  // Before any request: the CLI blocks this process, and a kept-alive socket would go stale.
  viewer = createToken('viewer', `it-alert-viewer-${suffix}`);
}, 60_000);

afterAll(async () => {
  clearInterval(producing);
  // Engines first, before any step that can hang (see support/cleanup.ts); every step bounded.
  if (t) killEngines(t.home);
  await cleanUp([
    [
      // Stopped, this suite's control plane starts no engine again before it closes.
      'stop the query',
      async () => {
        if (!t || !queryId) return;
        await t.call('POST', `/api/v1/queries/${queryId}/stop`);
        await eventually(
          () => t.call<{ phase: string }>('GET', `/api/v1/queries/${queryId}`).then((r) => r.body.phase),
          (p) => p === 'STOPPED',
          15_000,
          'stopped',
        );
      },
    ],
    ['close the control plane', () => t?.close()],
    ['kill engines started meanwhile', () => t && killEngines(t.home)],
    ['disconnect the producer', () => producer?.disconnect()],
    ['stop the receiver', () => receiver.stop()],
    ['forget the queries', () => forgetTestQueries(suffix)],
    [
      'delete rules, receivers and silences',
      async () => {
        const { Pool } = await import('pg');
        const pool = new Pool({ connectionString: process.env.DATABASE_URL });
        try {
          await pool.query(`DELETE FROM "AlertRule" WHERE name LIKE $1`, [`%${suffix}`]);
          await pool.query(`DELETE FROM "Receiver" WHERE name LIKE $1`, [`%${suffix}`]);
          await pool.query(`DELETE FROM "Silence" WHERE comment LIKE $1`, [`%${suffix}%`]);
        } finally {
          await pool.end();
        }
      },
    ],
  ]);
});

type Alert = {
  id: string;
  state: string;
  activeAt: string;
  firedAt: string | null;
  silencedBy: string[];
  figures: Record<string, unknown>;
  annotations: Record<string, string>;
};
const alertsOf = (rule: string) =>
  t.call<Alert[]>('GET', `/api/v1/alerts?query=${queryName}&rule=${rule}`).then((r) => r.body);
/** One operation per query at a time (409 while the previous one runs): ask until it is taken. */
const rateLimit = (max: number | null) =>
  eventually(
    () => t.call('POST', `/api/v1/queries/${queryId}/rate-limit`, { maxOffsetsPerTrigger: max }),
    (r) => r.status !== 409,
    60_000,
    'rate-limit accepted',
  );
const notifications = (status: string) =>
  receiver.received.filter((r) => r.json.status === status && r.json.groupLabels.query === queryName);

describe('alerting on the real stack', () => {
  it('creates the default rules on deploy and validates rules, receivers and silences', async () => {
    const rules = await t.call<Array<{ name: string; builtIn: boolean }>>('GET', '/api/v1/alert-rules');
    expect(rules.status).toBe(200);
    expect(rules.body.filter((r) => r.builtIn).map((r) => r.name)).toEqual(
      expect.arrayContaining(['SluiceQueryTimeLagHigh', 'SluiceConsumerStatusError', 'SluiceLagSloBurnFast']),
    );
    const bad = await t.call<{ code: string; message: string }>('POST', '/api/v1/receivers', {
      name: `ftp-${suffix}`,
      kind: 'webhook',
      url: 'ftp://127.0.0.1/x',
    });
    expect(bad.status).toBe(422);
    expect(bad.body.message).toMatch(/^url: must be http/);
    const internal = await t.call<{ message: string }>('POST', '/api/v1/receivers', {
      name: `meta-${suffix}`,
      kind: 'webhook',
      url: 'http://169.254.169.254/latest',
    });
    expect(internal.status).toBe(422);
    expect(internal.body.message).toContain('SLUICE_ALERT_RECEIVER_HOSTS');
    const badRule = await t.call<{ errors: Array<{ path: string }> }>('POST', '/api/v1/alert-rules', {
      name: `Bad_${suffix}`,
      kind: 'timeLag',
      params: { thresholdSeconds: -1 },
      forSeconds: 1,
      severity: 'warning',
      annotations: { summary: 'x' },
    });
    expect(badRule.status).toBe(400);
    expect(JSON.stringify(badRule.body)).toContain('thresholdSeconds');
    const badSilence = await t.call('POST', '/api/v1/silences', {
      matchers: [{ name: 'query', value: '(', isRegex: true }],
      endsAt: new Date(Date.now() + 60_000).toISOString(),
      comment: 'x',
    });
    expect(badSilence.status).toBe(400);
    const forbidden = await t.call(
      'POST',
      '/api/v1/silences',
      {
        matchers: [{ name: 'query', value: queryName }],
        endsAt: new Date(Date.now() + 60_000).toISOString(),
        comment: 'x',
      },
      viewer,
    );
    expect(forbidden.status).toBe(403);
    expect((await t.call('GET', '/api/v1/alerts?state=firing', undefined, viewer)).status).toBe(200);
  });

  it('fires timeLag after `for`, signs the webhook, resolves after the drain, honours silences and outlives a receiver outage', async () => {
    const created = await t.call<{ signingSecret: string }>('POST', '/api/v1/receivers', {
      name: `hook-${suffix}`,
      kind: 'webhook',
      url: `http://127.0.0.1:${receiver.port}/alerts`,
      matchers: [{ name: 'alertname', value: ruleName }],
      groupWaitSeconds: 0,
      groupIntervalSeconds: 1,
      repeatIntervalSeconds: 3600,
    });
    expect(created.status).toBe(201);
    secret = created.body.signingSecret;
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    const rule = await t.call('POST', '/api/v1/alert-rules', {
      name: ruleName,
      kind: 'timeLag',
      // Well above the resolution of the time-lag estimate: the offset→time table is sampled by
      // the 5 s lag poll, so a 3 s threshold flapped on the estimate's steps.
      params: { thresholdSeconds: 15 },
      forSeconds: 3,
      severity: 'critical',
      labels: { team: 'it' },
      annotations: {
        summary: '{{ $labels.query }} is {{ $value }} s behind',
        description:
          'oldest uncommitted record {{ $figures.maxLagSeconds }} s old on {{ $figures.partition }}',
      },
      queries: [queryName],
      cluster,
    });
    expect(rule.status).toBe(201);

    const spec = [
      `name: ${queryName}`,
      'sources:',
      '  events:',
      `    kafka: { topic: ${topic}, startingOffsets: latest }`,
      '    format: json',
      '    schema: { user_id: string, amount: long }',
      'sql: SELECT user_id, amount FROM events WHERE amount > 10',
      'sink:',
      `  kafka: { topic: it-alert-out-${suffix} }`,
      'trigger: { processingTime: 1 second }',
      '',
    ].join('\n');
    const q = await t.call<{ id: string }>('POST', '/api/v1/queries', spec);
    expect(q.status).toBe(201);
    queryId = q.body.id;
    await eventually(
      () => t.call<{ lastProgress: unknown }>('GET', `/api/v1/queries/${queryId}`).then((r) => r.body),
      (b) => b.lastProgress !== null,
      120_000,
      'engine progress',
    );

    // Watch the SSE stream for alert transitions.
    const sse = await fetch(`${t.base}/api/v1/queries/${queryId}/events`, {
      headers: { Authorization: `Bearer ${t.token}` },
    });
    const reader = sse.body!.getReader();
    let streamed = '';
    const watching = (async () => {
      while (!streamed.includes('"to":"firing"')) {
        const { value, done } = await reader.read();
        if (done) break;
        streamed += Buffer.from(value).toString('utf8');
      }
    })();

    // 1. Rate limit below the input: lag grows, the alert goes pending, then fires after `for`.
    expect((await rateLimit(10)).status).toBe(202);
    const firing = await eventually(
      () => alertsOf(ruleName),
      (a) => a[0]?.state === 'firing',
      120_000,
      'timeLag firing',
    );
    expect(Date.parse(firing[0]!.firedAt!) - Date.parse(firing[0]!.activeAt)).toBeGreaterThanOrEqual(3000);
    // Evaluations are stamped with their slot (evaluation-slots.ts): the query's share's offset in
    // the 1 s interval (4 shares, 250 ms apart: evaluation-shares.ts), so `for` is measured in
    // whole intervals.
    const activeAt = Date.parse(firing[0]!.activeAt);
    const firedAt = Date.parse(firing[0]!.firedAt!);
    expect(activeAt % 250).toBe(0);
    expect((firedAt - activeAt) % 1000).toBe(0);
    expect(Number(firing[0]!.figures.maxLagSeconds)).toBeGreaterThan(15);
    expect(firing[0]!.annotations.summary).toMatch(new RegExp(`^${queryName} is [0-9.]+ s behind$`));
    expect(firing[0]!.annotations.dashboard).toBe(`http://127.0.0.1:4401/queries/${queryName}`);
    const history = await t.call<Array<{ from: string; to: string }>>(
      'GET',
      `/api/v1/alerts/history?query=${queryName}`,
    );
    expect(history.body.map((h) => `${h.from}>${h.to}`)).toEqual(
      expect.arrayContaining(['inactive>pending', 'pending>firing']),
    );

    const [fired] = await eventually(
      async () => notifications('firing'),
      (n) => n.length > 0,
      30_000,
      'webhook',
    );
    expect(fired!.json).toMatchObject({
      version: '4',
      status: 'firing',
      receiver: `hook-${suffix}`,
      groupKey: `{}:{query="${queryName}"}`,
    });
    expect(fired!.json.alerts[0]!.labels).toMatchObject({
      alertname: ruleName,
      query: queryName,
      severity: 'critical',
      team: 'it',
    });
    expect(signedWith(secret, fired!)).toBe(true);
    expect(signedWith(secret, fired!, fired!.body.replace('firing', 'resolved'))).toBe(false);
    expect(fired!.headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
    await Promise.race([watching, new Promise((r) => setTimeout(r, 10_000))]);
    await reader.cancel();
    expect(streamed).toContain('event: alert');
    expect(streamed).toContain('"to":"firing"');

    // 2. Limit raised: the lag drains, the alert resolves, a resolved notification follows.
    expect((await rateLimit(null)).status).toBe(202);
    await eventually(
      () => alertsOf(ruleName),
      (a) => a[0]?.state === 'resolved',
      120_000,
      'resolved',
    );
    const [resolved] = await eventually(
      async () => notifications('resolved'),
      (n) => n.length > 0,
      30_000,
      'resolved webhook',
    );
    expect(resolved!.json.alerts[0]!.status).toBe('resolved');
    expect(notifications('firing')).toHaveLength(1);

    // 3. A silence on the query: the alert fires again but no notification goes out.
    const silence = await t.call<{ id: string; state: string }>('POST', '/api/v1/silences', {
      matchers: [{ name: 'query', value: queryName }],
      endsAt: new Date(Date.now() + 3600_000).toISOString(),
      comment: `maintenance ${suffix}`,
    });
    expect(silence.status).toBe(201);
    expect(silence.body.state).toBe('active');
    expect((await rateLimit(10)).status).toBe(202);
    const silenced = await eventually(
      () => alertsOf(ruleName),
      (a) => a[0]?.state === 'firing' && a[0].silencedBy.includes(silence.body.id),
      120_000,
      'firing while silenced',
    );
    expect(silenced[0]!.firedAt).not.toBe(firing[0]!.firedAt);
    // Several evaluations and routings pass (the delivery log would show a flush at once).
    await new Promise((r) => setTimeout(r, 4000));
    expect(notifications('firing')).toHaveLength(1);
    const log = await t.call<Array<{ status: string }>>('GET', `/api/v1/receivers/hook-${suffix}/deliveries`);
    expect(log.body).toHaveLength(2);

    // 4. Receiver down, silence expired: the notification waits, retried with backoff, and
    //    arrives exactly once after the receiver is back.
    await receiver.stop();
    expect((await t.call('DELETE', `/api/v1/silences/${silence.body.id}`)).status).toBe(200);
    const retrying = await eventually(
      () =>
        t
          .call<Array<{ id: string; status: string; attempts: number }>>(
            'GET',
            `/api/v1/receivers/hook-${suffix}/deliveries`,
          )
          .then((r) => r.body),
      (d) => d.length === 3 && d[0]!.status === 'retrying',
      30_000,
      'delivery retrying while the receiver is down',
    );
    const pendingId = retrying[0]!.id;
    await new Promise((r) => setTimeout(r, DOWN_MS));
    await receiver.start();
    const delivered = await eventually(
      () =>
        t
          .call<Array<{ id: string; status: string; attempts: number; httpStatus: number }>>(
            'GET',
            `/api/v1/receivers/hook-${suffix}/deliveries`,
          )
          .then((r) => r.body.find((d) => d.id === pendingId)!),
      (d) => d.status === 'delivered',
      120_000,
      'delivered after the outage',
    );
    expect(delivered.attempts).toBeGreaterThan(2);
    expect(delivered.httpStatus).toBe(200);
    expect(receiver.received.filter((r) => r.headers['idempotency-key'] === pendingId)).toHaveLength(1);
    expect(notifications('firing')).toHaveLength(2);

    const metrics = await (await fetch(`${t.base}/metrics`)).text();
    expect(metrics).toContain(`sluice_alerts{state="firing",rule="${ruleName}",query="${queryName}"} 1`);
    expect(metrics).toMatch(
      new RegExp(`sluice_alert_notifications_total\\{receiver="hook-${suffix}",outcome="delivered"\\} [3-9]`),
    );
    expect(metrics).toMatch(
      new RegExp(`sluice_alert_notifications_total\\{receiver="hook-${suffix}",outcome="retry"\\} [1-9]`),
    );
  }, 480_000);

  it("a stopped engine (SIGSTOP) is Burrow's STOP on the consumer status rule", async () => {
    expect((await rateLimit(null)).status).toBe(202);
    const rule = await t.call('POST', '/api/v1/alert-rules', {
      name: stopRule,
      kind: 'consumerStatus',
      params: { statuses: ['STOP', 'STALL', 'REWIND'], windowSize: 3 },
      forSeconds: 0,
      severity: 'critical',
      annotations: { summary: '{{ $labels.query }} consumer {{ $figures.status }}' },
      queries: [queryName],
      cluster,
    });
    expect(rule.status).toBe(201);
    const pids = enginePids(t.home);
    expect(pids.length).toBeGreaterThan(0);
    for (const pid of pids) process.kill(pid, 'SIGSTOP');
    try {
      const [stopped] = await eventually(
        () => alertsOf(stopRule),
        (a) => a[0]?.state === 'firing',
        60_000,
        'consumer status alert',
      );
      expect(stopped!.figures.status).toBe('STOP');
      expect(stopped!.annotations.summary).toBe(`${queryName} consumer STOP`);
      // The gauge is Burrow's status over the default window (10 commits, a longer span than this
      // rule's 3): STOP shows there once the silence outlasts that span too.
      const gauge = `sluice_consumer_status{query="${queryName}",topic="${topic}",partition="0"} 4`;
      await eventually(
        () => fetch(`${t.base}/metrics`).then((r) => r.text()),
        (m) => m.includes(gauge),
        // The lag poll's readings (every 5 s) are the commits: 10 of them span ~50 s.
        120_000,
        'sluice_consumer_status STOP',
      );
    } finally {
      for (const pid of pids) process.kill(pid, 'SIGCONT');
    }
    await eventually(
      () => alertsOf(stopRule),
      (a) => a[0]?.state === 'resolved',
      90_000,
      'STOP resolved',
    );
  }, 300_000);

  it("a new leader continues the stored history (Burrow's windows, SLO samples) instead of starting empty", async () => {
    const { Pool } = await import('pg');
    const pool = new Pool({ connectionString: process.env.DATABASE_URL });
    // The stored state read back as a new leader reads it (whatever form it is stored in).
    const options = { windowSize: 1000, sampleRetentionMs: 24 * 3600_000, objectives: [] };
    const stored = async () => {
      const row = (
        await pool.query<{ state: unknown; savedAt: Date }>(
          `SELECT state, "savedAt" FROM "AlertQueryHistory" WHERE "queryId" = $1`,
          [queryId],
        )
      ).rows[0];
      if (!row) return undefined;
      const h = QueryHistory.fromState(options, row.state);
      return { savedAt: row.savedAt, state: { partitions: h.commitWindows(), samples: h.lagSamples() } };
    };
    try {
      // The leader saves every few evaluations (1 s here).
      const before = await eventually(
        stored,
        (r) => (r?.state.partitions[0]?.commits.length ?? 0) >= 3 && (r?.state.samples.length ?? 0) >= 1,
        60_000,
        'a saved history',
      );
      const lastCommit = before!.state.partitions[0]!.commits.at(-1)!;
      // Change of leader: a second control plane of the same cluster and home starts (a
      // follower), the leader stops (its advisory lock goes) and the follower takes over.
      const next = await startTestApp({
        SLUICE_HOME: t.home,
        SLUICE_CLUSTER_NAME: cluster,
        SLUICE_LEADER_RETRY_MS: '500',
        SLUICE_ALERT_EVAL_INTERVAL_MS: '1000',
        SLUICE_ALERT_SIGNING_KEY: `it-signing-key-${suffix}-0123456789abcdef`,
        SLUICE_ALERT_RECEIVER_HOSTS: '127.0.0.1',
        SLUICE_ALERT_RETRY_BASE_MS: '1000',
        SLUICE_METRICS_ACCESS: 'open',
      });
      const takeoverMs = Date.now();
      await t.close();
      t = next;
      const after = await eventually(
        stored,
        (r) => r !== undefined && r.savedAt.getTime() > takeoverMs,
        90_000,
        'a history saved by the new leader',
      );
      // What the new leader saved still holds what the old one observed: the last commit of the
      // old window, and lag samples older than the new leader (its own are all newer).
      const commits = after!.state.partitions[0]!.commits;
      expect(commits).toContainEqual(expect.objectContaining(lastCommit));
      expect(Math.min(...after!.state.samples.map((x) => x.timestampMs))).toBeLessThan(takeoverMs);
    } finally {
      await pool.end();
    }
  }, 180_000);
});

function enginePids(home: string): number[] {
  const root = path.join(home, 'instances');
  const out: number[] = [];
  if (!fs.existsSync(root)) return out;
  for (const q of fs.readdirSync(root)) {
    for (const i of fs.readdirSync(path.join(root, q))) {
      const f = path.join(root, q, i, 'pid');
      if (fs.existsSync(f)) out.push(Number(fs.readFileSync(f, 'utf8')));
    }
  }
  return out.filter((p) => {
    try {
      process.kill(p, 0);
      return true;
    } catch {
      return false;
    }
  });
}
