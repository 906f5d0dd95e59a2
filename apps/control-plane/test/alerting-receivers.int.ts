// Receivers on the real stack (PostgreSQL, Redis/BullMQ, a real HTTP server on loopback):
// - a receiver down for longer than a whole round of retries still gets the notification later,
//   exactly once (the delivery is `deferred` between rounds, never `failed`);
// - a Slack receiver gets Slack's incoming-webhook body, signed like the webhook;
// - PUT replaces a receiver (validated, admins only, audited) and rotate-secret replaces its
//   signing secret (the old one stops verifying), audited without the secret.
// Attempts, backoff and the pause between rounds are shortened by configuration.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp } from './support/cleanup';
import { alertingEnv, LoopbackReceiver, signedWith } from './support/loopback-receiver';
import { createToken, eventually, startTestApp, type TestApp } from './support/test-app';

const suffix = randomUUID().slice(0, 8);
const cluster = `it-receivers-${suffix}`;

interface Delivery {
  id: string;
  status: string;
  attempts: number;
  nextAttemptAt: string | null;
  lastError: string | null;
}

let t: TestApp;
let viewer = '';
const hook = new LoopbackReceiver();
const slack = new LoopbackReceiver();

beforeAll(async () => {
  await hook.start();
  await slack.start();
  t = await startTestApp(
    alertingEnv(cluster, suffix, {
      SLUICE_ALERT_EVAL_INTERVAL_MS: '500',
      SLUICE_ALERT_RETRY_BASE_MS: '200',
      SLUICE_ALERT_DELIVERY_ATTEMPTS: '2',
      SLUICE_ALERT_DEFERRED_RETRY_MS: '2000',
    }),
  );
  viewer = createToken('viewer', `it-receivers-viewer-${suffix}`);
}, 60_000);

afterAll(async () => {
  // No query, so no engine: every step bounded (support/cleanup.ts) so one that hangs leaves the
  // rest done.
  await cleanUp([
    ['close the control plane', () => t?.close()],
    ['stop the receivers', () => Promise.all([hook.stop(), slack.stop()])],
    [
      'delete the receivers',
      async () => {
        const { Pool } = await import('pg');
        const pool = new Pool({ connectionString: process.env.DATABASE_URL });
        try {
          await pool.query(`DELETE FROM "Receiver" WHERE name LIKE $1`, [`%${suffix}`]);
        } finally {
          await pool.end();
        }
      },
    ],
  ]);
});

const deliveries = (name: string) =>
  t.call<Delivery[]>('GET', `/api/v1/receivers/${name}/deliveries`).then((r) => r.body);

describe('receivers on the real stack', () => {
  it('a receiver down for longer than every retry of a round still gets the notification later, once', async () => {
    await hook.stop(); // the port stays known: the receiver comes back on it
    const name = `down-${suffix}`;
    const created = await t.call<{ signingSecret: string }>('POST', '/api/v1/receivers', {
      name,
      kind: 'webhook',
      url: `http://127.0.0.1:${hook.port}/alerts`,
    });
    expect(created.status).toBe(201);
    const sent = await t.call<Delivery>('POST', `/api/v1/receivers/${name}/test`);
    expect(sent.status).toBe(201);
    // The first round (2 attempts) fails: deferred with a time for the next round, not failed.
    const deferred = await eventually(
      () => deliveries(name).then((d) => d.find((x) => x.id === sent.body.id)!),
      (d) => d.status === 'deferred',
      60_000,
      'deferred after the first round',
    );
    expect(deferred.attempts).toBe(2);
    expect(deferred.nextAttemptAt).not.toBeNull();
    expect(deferred.lastError).toBeTruthy();
    // A second round fails as well: the outage outlasts the retry schedule more than once.
    await eventually(
      () => deliveries(name).then((d) => d.find((x) => x.id === sent.body.id)!),
      (d) => d.status === 'deferred' && d.attempts >= 4,
      60_000,
      'a second failed round',
    );
    expect(hook.received).toHaveLength(0);

    await hook.start();
    const done = await eventually(
      () => deliveries(name).then((d) => d.find((x) => x.id === sent.body.id)!),
      (d) => d.status === 'delivered',
      60_000,
      'delivered once the receiver is back',
    );
    expect(done.attempts).toBeGreaterThanOrEqual(5);
    // Give a duplicate the time of another round to show up: there is none.
    await new Promise((r) => setTimeout(r, 3000));
    const got = hook.received.filter((r) => r.headers['idempotency-key'] === sent.body.id);
    expect(got).toHaveLength(1);
    expect(signedWith(created.body.signingSecret, got[0]!)).toBe(true);
    expect(got[0]!.json).toMatchObject({ version: '4', status: 'firing', receiver: name });
  });

  it('a Slack receiver gets the incoming-webhook format, signed; rotate-secret and PUT replace secret and settings', async () => {
    const name = `slack-${suffix}`;
    const created = await t.call<{ signingSecret: string; kind: string }>('POST', '/api/v1/receivers', {
      name,
      kind: 'slack',
      url: `http://127.0.0.1:${slack.port}/services/T000/B000/XXX`,
    });
    expect(created.status).toBe(201);
    const first = await t.call<Delivery>('POST', `/api/v1/receivers/${name}/test`);
    expect(first.status).toBe(201);
    const r1 = await eventually(
      async () => slack.received.find((r) => r.headers['idempotency-key'] === first.body.id),
      (r) => r !== undefined,
      60_000,
      'slack notification',
    );
    // Slack's incoming webhook: `text` (the fallback) and Block Kit `blocks`, no Alertmanager fields.
    expect(r1!.json).not.toHaveProperty('version');
    expect(r1!.json.text).toMatch(/^\[FIRING:1\] test$/);
    const blocks = r1!.json.blocks as Array<{ type: string; text: { type: string; text: string } }>;
    expect(blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: '[FIRING:1] test' } });
    expect(blocks[1]!.type).toBe('section');
    expect(blocks[1]!.text.type).toBe('mrkdwn');
    expect(blocks[1]!.text.text).toContain('SluiceTestNotification');
    expect(r1!.headers['content-type']).toBe('application/json');
    expect(signedWith(created.body.signingSecret, r1!)).toBe(true);

    // Rotation: admins only; a new secret, shown once, which signs from now on.
    expect((await t.call('POST', `/api/v1/receivers/${name}/rotate-secret`, undefined, viewer)).status).toBe(
      403,
    );
    const rotated = await t.call<{ signingSecret: string; name: string }>(
      'POST',
      `/api/v1/receivers/${name}/rotate-secret`,
    );
    expect(rotated.status).toBe(200);
    expect(rotated.body.name).toBe(name);
    expect(rotated.body.signingSecret).toMatch(/^[0-9a-f]{64}$/);
    expect(rotated.body.signingSecret).not.toBe(created.body.signingSecret);
    expect((await t.call(`GET`, `/api/v1/receivers/${name}`)).body).not.toHaveProperty('signingSecret');
    const second = await t.call<Delivery>('POST', `/api/v1/receivers/${name}/test`);
    const r2 = await eventually(
      async () => slack.received.find((r) => r.headers['idempotency-key'] === second.body.id),
      (r) => r !== undefined,
      60_000,
      'notification after rotation',
    );
    expect(signedWith(rotated.body.signingSecret, r2!)).toBe(true);
    expect(signedWith(created.body.signingSecret, r2!)).toBe(false);

    // PUT: validated (the field is named), admins only, and it takes effect.
    const body = {
      name,
      kind: 'webhook',
      url: `http://127.0.0.1:${hook.port}/moved`,
      matchers: [{ name: 'severity', value: 'critical' }],
      groupWaitSeconds: 5,
      groupIntervalSeconds: 60,
      repeatIntervalSeconds: 600,
      sendResolved: false,
      enabled: false,
    };
    expect((await t.call('PUT', `/api/v1/receivers/${name}`, body, viewer)).status).toBe(403);
    const renamed = await t.call<{ errors: Array<{ path: string }> }>('PUT', `/api/v1/receivers/${name}`, {
      ...body,
      name: `other-${suffix}`,
    });
    expect(renamed.status).toBe(422);
    expect(renamed.body.errors[0]!.path).toBe('name');
    const ftp = await t.call<{ code: string }>('PUT', `/api/v1/receivers/${name}`, {
      ...body,
      url: 'ftp://127.0.0.1/',
    });
    expect(ftp.status).toBe(422);
    expect(ftp.body.code).toBe('INVALID_RECEIVER_URL');
    const negative = await t.call('PUT', `/api/v1/receivers/${name}`, { ...body, groupWaitSeconds: -1 });
    expect(negative.status).toBe(400);
    expect(JSON.stringify(negative.body)).toContain('groupWaitSeconds');
    const unknown = await t.call('PUT', `/api/v1/receivers/${name}`, { ...body, secretVersion: 9 });
    expect(unknown.status).toBe(400);
    expect(
      (await t.call('PUT', `/api/v1/receivers/nope-${suffix}`, { ...body, name: `nope-${suffix}` })).status,
    ).toBe(404);
    const replaced = await t.call<Record<string, unknown>>('PUT', `/api/v1/receivers/${name}`, body);
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({
      name,
      kind: 'webhook',
      // The path is not shown (a Slack webhook URL's path is its secret).
      url: `http://127.0.0.1:${hook.port}/…`,
      matchers: [{ name: 'severity', value: 'critical' }],
      groupWaitSeconds: 5,
      sendResolved: false,
      enabled: false,
    });
    expect((await t.call('GET', `/api/v1/receivers/${name}`)).body).toMatchObject({
      enabled: false,
      kind: 'webhook',
    });

    // Audited: the update with before/after, the rotation with versions only (never the secret).
    const audit = await t.call<Array<{ action: string; before: unknown; after: unknown }>>(
      'GET',
      `/api/v1/audit?target=${encodeURIComponent(`receiver/${name}`)}`,
    );
    expect(audit.status).toBe(200);
    const actions = audit.body.map((a) => a.action);
    expect(actions).toEqual(
      expect.arrayContaining(['receiver.create', 'receiver.rotate-secret', 'receiver.update']),
    );
    const rotation = audit.body.find((a) => a.action === 'receiver.rotate-secret')!;
    expect(rotation.before).toEqual({ secretVersion: 1 });
    expect(rotation.after).toEqual({ secretVersion: 2 });
    expect(JSON.stringify(audit.body)).not.toContain(rotated.body.signingSecret);
    const update = audit.body.find((a) => a.action === 'receiver.update')!;
    expect(update.before).toMatchObject({ kind: 'slack', enabled: true });
    expect(update.after).toMatchObject({ kind: 'webhook', enabled: false });
  });
});
