// /metrics names every query and topic, so who may read it is a setting (SLUICE_METRICS_ACCESS):
// `token` (default) needs any API token; `port` serves it only on a listener of its own.
import { afterAll, describe, expect, it } from 'vitest';
import { createToken, startTestApp, type TestApp } from './support/test-app';
import { freePort } from '@sluice/testing';

const apps: TestApp[] = [];

afterAll(async () => {
  for (const t of apps) await t.close();
});

describe('/metrics access', () => {
  it('needs a token by default; a viewer token is enough', async () => {
    const t = await startTestApp();
    apps.push(t);
    expect((await fetch(`${t.base}/metrics`)).status).toBe(401);
    const viewer = createToken('viewer', 'it-metrics-viewer');
    const res = await fetch(`${t.base}/metrics`, { headers: { Authorization: `Bearer ${viewer}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    expect(await res.text()).toContain('sluice_build_info');
  });

  it('in port mode serves it only on its own listener, without a token', async () => {
    const port = await freePort();
    const t = await startTestApp({ SLUICE_METRICS_ACCESS: 'port', SLUICE_METRICS_PORT: String(port) });
    apps.push(t);
    expect(
      (await fetch(`${t.base}/metrics`, { headers: { Authorization: `Bearer ${t.token}` } })).status,
    ).toBe(404);
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('sluice_build_info');
    expect((await fetch(`http://127.0.0.1:${port}/api/v1/queries`)).status).toBe(404);
  });
});
