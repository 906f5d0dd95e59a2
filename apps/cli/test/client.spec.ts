// The API client against a real HTTP server on loopback: a GET answered 503 is asked again after
// Retry-After; a POST never is (its first attempt may have acted).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiRequestError } from '../src/api/api-error';
import { ApiClient } from '../src/api/client';

let server: http.Server;
let base = '';
/** How many requests each path got; the first `unavailable` of them are answered 503. */
const seen = new Map<string, number>();
let unavailable = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const n = (seen.get(req.url!) ?? 0) + 1;
    seen.set(req.url!, n);
    if (n <= unavailable) {
      res.writeHead(503, { 'Content-Type': 'application/json', 'Retry-After': '1' });
      res.end(JSON.stringify({ statusCode: 503, code: 'UNAVAILABLE', message: 'database restarting' }));
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ path: req.url, method: req.method }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('ApiClient', () => {
  it('asks a GET again after a 503 and its Retry-After, saying so', async () => {
    unavailable = 2;
    const retries: string[] = [];
    const client = new ApiClient({ url: base, token: 't', source: 'test' }, (m) => retries.push(m));
    expect(await client.get('/api/v1/queries')).toEqual({ path: '/api/v1/queries', method: 'GET' });
    expect(seen.get('/api/v1/queries')).toBe(3);
    expect(retries).toEqual([
      'the control plane is unavailable (GET /api/v1/queries); asking again in 1 s',
      'the control plane is unavailable (GET /api/v1/queries); asking again in 1 s',
    ]);
  });

  it('gives up on a GET after three retries, and never repeats a POST', async () => {
    unavailable = 10;
    const client = new ApiClient({ url: base, token: 't', source: 'test' });
    const get = await client.get('/api/v1/down').catch((e: unknown) => e);
    expect(get).toBeInstanceOf(ApiRequestError);
    expect((get as ApiRequestError).status).toBe(503);
    expect(seen.get('/api/v1/down')).toBe(4);
    const post = await client
      .post('/api/v1/queries/x/scale', { body: { instances: 2 } })
      .catch((e: unknown) => e);
    expect((post as ApiRequestError).status).toBe(503);
    expect((post as Error).message).toContain('try again shortly');
    expect(seen.get('/api/v1/queries/x/scale')).toBe(1);
  });
});
