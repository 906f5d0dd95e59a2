// A query's server-sent event stream does not hold the control plane's shutdown: closing the
// application ends every open stream, so the HTTP server's close (which waits for every response
// to end) returns and a SIGTERM exits 0 instead of at main.ts's 30-s deadline. Engines are the
// stand-in: this is about the API's streams, not about data.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import {
  eventsSpec,
  forgetTestQueries,
  killTestInstances,
  operationOutcome,
  STAND_IN_ENGINE,
  startTestApp,
  type TestApp,
} from './support/test-app';

const suffix = randomUUID().slice(0, 8);
let t: TestApp | undefined;

afterAll(async () => {
  if (t) killTestInstances(t.home);
  await forgetTestQueries(suffix);
});

describe('event streams at shutdown', () => {
  it('closing the application ends an open event stream, and the close returns', async () => {
    const app = await startTestApp({
      SLUICE_ENGINE_COMMAND: JSON.stringify([process.execPath, STAND_IN_ENGINE]),
    });
    t = app;
    const created = await app.call<{ id: string; operation: { id: string } }>(
      'POST',
      '/api/v1/queries',
      eventsSpec(`sse-${suffix}`, `it-src-${suffix}`, `it-out-${suffix}`),
    );
    expect(created.status).toBe(201);
    await operationOutcome(app, created.body.operation.id, 90_000);
    const sse = await fetch(`${app.base}/api/v1/queries/${created.body.id}/events`, {
      headers: { Authorization: `Bearer ${app.token}` },
    });
    expect(sse.status).toBe(200);
    expect(sse.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = sse.body!.getReader();
    // The stream is open and live: the query's status event arrives (polled once a second).
    let text = '';
    while (!text.includes('event: status')) {
      const { value, done } = await reader.read();
      expect(done, `the stream ended before its first event: ${JSON.stringify(text)}`).toBe(false);
      text += Buffer.from(value!).toString('utf8');
    }

    const closing = app.close().then(() => 'closed' as const);
    // Read to the end: before the fix this never came, and the close never returned either.
    while (!(await reader.read()).done);
    expect(await closing).toBe('closed');
  }, 120_000);
});
