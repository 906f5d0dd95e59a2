// Hostile spec uploads against the real control plane (PostgreSQL, Redis, Kafka): the payloads
// of the hardening issue get 4xx answers naming the limit they break, never a 500 or a crash, and
// the API stays responsive (/healthz) while a flood of them arrives.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { compileSpec } from '@sluice/query-plan';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventsSpec, forgetTestQueries, startTestApp, type TestApp } from './support/test-app';

interface ApiError {
  statusCode: number;
  code: string;
  message: string;
  errors?: Array<{ path: string; line: number; column: number; message: string }>;
}

const FLOOD_CLIENT = path.join(__dirname, 'fixtures', 'flood-client.cjs');

let t: TestApp;
const suffix = randomUUID().slice(0, 8);

/** POST with an exact Content-Type (or none): the test app's `call` always picks one. */
async function post(
  path: string,
  body: string | undefined,
  contentType?: string,
): Promise<{ status: number; body: ApiError }> {
  const res = await fetch(`${t.base}${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${t.token}`, ...(contentType ? { 'Content-Type': contentType } : {}) },
    // as bytes: for a string body fetch would add `Content-Type: text/plain` itself
    body: body === undefined ? undefined : Buffer.from(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as ApiError };
}

const YAML = 'application/yaml';
const JSON_TYPE = 'application/json';

/** A valid spec whose WHERE is `condition` (SQL on line 8, from column 3). */
const specWhere = (name: string, condition: string): string =>
  eventsSpec(name, `hostile-src-${suffix}`, `hostile-out-${suffix}`).replace(
    'WHERE amount > 10',
    `WHERE ${condition}`,
  );
const ors = (n: number): string => Array.from({ length: n }, (_, i) => `amount = ${i}`).join(' OR ');

// The payloads of the issue: built once, before anything is timed.
const brackets800k = `name: x\nsources: ${'['.repeat(400_000)}${']'.repeat(400_000)}\n`;
const jsonBrackets800k = `{"name": "x", "sources": ${'['.repeat(400_000)}${']'.repeat(400_000)}}`;
const deepJson100k = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
const bracketsUnderSize = `{"name": "x", "sources": ${'['.repeat(100_000)}}`;
const ors20k = specWhere(`hostile-or20k-${suffix}`, ors(20_000));
const ors2k = specWhere(`hostile-or2k-${suffix}`, ors(2_000));

beforeAll(async () => {
  t = await startTestApp();
});

afterAll(async () => {
  await t?.close();
  await forgetTestQueries(suffix);
});

describe('hostile spec uploads get 4xx naming the limit', () => {
  it('800 KB of nested [ as YAML and as JSON: 422, SPEC_MAX_BYTES', async () => {
    for (const [body, type] of [
      [brackets800k, YAML],
      [jsonBrackets800k, JSON_TYPE],
    ] as const) {
      const r = await post('/api/v1/queries', body, type);
      expect(r.status).toBe(422);
      expect(r.body.code).toBe('INVALID_SPEC');
      expect(r.body.message).toContain('limit SPEC_MAX_BYTES');
      expect(r.body.errors?.[0]).toMatchObject({ line: expect.any(Number), column: expect.any(Number) });
    }
  });

  it('nesting under the size limit: 422, SPEC_MAX_DEPTH, at the first bracket too deep', async () => {
    const r = await post('/api/v1/queries', bracketsUnderSize, JSON_TYPE);
    expect(r.status).toBe(422);
    expect(r.body.errors).toEqual([
      {
        path: '',
        line: 1,
        column: '{"name": "x", "sources": '.length + 32,
        message: 'nesting deeper than 32 levels (limit SPEC_MAX_DEPTH)',
      },
    ]);
  });

  it('JSON nested 100,000 deep: 4xx on the spec endpoint and on any other JSON endpoint', async () => {
    const spec = await post('/api/v1/queries', deepJson100k, JSON_TYPE);
    expect(spec.status).toBe(422);
    expect(spec.body.message).toMatch(/limit SPEC_MAX_(BYTES|DEPTH)/);
    const other = await post(`/api/v1/queries/${randomUUID()}/scale`, deepJson100k, JSON_TYPE);
    expect(other.status).toBe(400);
    expect(other.body.message).toBe('JSON body nested deeper than 32 levels (limit SPEC_MAX_DEPTH)');
  });

  it('20,000 ORs: 422; 2,000 ORs: refused by a limit, never a 500', async () => {
    const huge = await post('/api/v1/queries?deploy=false', ors20k, YAML);
    expect(huge.status).toBe(422);
    expect(huge.body.message).toContain('limit SPEC_MAX_BYTES');
    const many = await post('/api/v1/queries?deploy=false', ors2k, YAML);
    expect(many.status).toBe(422);
    expect(many.body.errors?.[0]).toMatchObject({
      path: 'sql',
      line: 8,
      message: expect.stringMatching(/limit SQL_MAX_(TOKENS|BOOLEAN_TERMS)/),
    });
    expect(many.body.message).not.toContain('internal');
  });

  it('missing or unsupported Content-Type: 415 naming the accepted types, on both spec endpoints', async () => {
    const spec = specWhere(`hostile-type-${suffix}`, 'amount > 10');
    for (const path of ['/api/v1/queries', `/api/v1/queries/${randomUUID()}/versions`]) {
      for (const type of [undefined, 'image/png']) {
        const r = await post(path, spec, type);
        expect(r.status, `${path} ${type ?? '(none)'}`).toBe(415);
        expect(r.body.code).toBe('UNSUPPORTED_MEDIA_TYPE');
        expect(r.body.message).toContain('application/yaml');
        expect(r.body.message).toContain('application/json');
      }
    }
  });

  it('a NUL character in a YAML comment or in an SQL string: 422 with its line and column', async () => {
    const inComment = `# a comment with a \0 in it\n${specWhere(`hostile-nul1-${suffix}`, 'amount > 10')}`;
    const r1 = await post('/api/v1/queries?deploy=false', inComment, YAML);
    expect(r1.status).toBe(422);
    expect(r1.body.errors).toEqual([
      { path: '', line: 1, column: 20, message: expect.stringContaining('NUL') },
    ]);

    const inSql = specWhere(`hostile-nul2-${suffix}`, "user_id = 'a\0b'");
    const r2 = await post('/api/v1/queries?deploy=false', inSql, YAML);
    expect(r2.status).toBe(422);
    const line = inSql.slice(0, inSql.indexOf('\0')).split('\n');
    expect(r2.body.errors).toEqual([
      {
        path: '',
        line: line.length,
        column: (line.at(-1)?.length ?? 0) + 1,
        message: expect.stringContaining('NUL'),
      },
    ]);
  });

  it('escapes PostgreSQL cannot store (\\u0000, an unpaired surrogate) in a JSON spec: 422, not 500', async () => {
    for (const bad of ['\\u0000', '\\ud800']) {
      const json = JSON.stringify({ name: `hostile-esc-${suffix}`, sources: {}, sql: 'x', sink: {} }).replace(
        `hostile-esc-${suffix}`,
        `hostile-${bad}`,
      );
      const r = await post('/api/v1/queries?deploy=false', json, JSON_TYPE);
      expect(r.status, bad).toBe(422);
      expect(r.body.errors?.[0]).toMatchObject({ path: 'name', line: 1 });
    }
  });

  it('a JSON spec is compiled as sent, and stored with the plan hash the engine computes', async () => {
    const json = JSON.stringify(
      {
        name: `hostile-json-${suffix}`,
        sources: {
          events: {
            kafka: { topic: `hostile-src-${suffix}`, startingOffsets: 'earliest' },
            format: 'json',
            schema: { user_id: 'string', amount: 'long' },
          },
        },
        sql: 'SELECT user_id, amount FROM events WHERE amount > 10',
        sink: { kafka: { topic: `hostile-out-${suffix}` } },
        outputMode: 'append',
        trigger: { processingTime: '1 second' },
      },
      null,
      2,
    );
    const created = await post('/api/v1/queries?deploy=false', json, JSON_TYPE);
    expect(created.status).toBe(201);
    const id = (created.body as unknown as { id: string }).id;
    const versions = await t.call<Array<{ planHash: string; specText: string }>>(
      'GET',
      `/api/v1/queries/${id}/versions`,
    );
    expect(versions.body[0]?.specText).toBe(json);
    const library = compileSpec(json); // what the engine computes from the same text
    expect(library.ok && library.planHash).toBe(versions.body[0]?.planHash);
  });
});

describe('responsiveness under a flood of hostile specs', () => {
  // Whether /healthz stays under 50 ms is a speed target, measured by `npm run -s bench:hostile-flood`
  // (which runs this test on its own and reads the latencies it records), not asserted here: on a
  // loaded 2-core machine any request can wait for a core. This test asserts what must always
  // hold: every hostile request is refused with a 4xx and the API keeps answering throughout.
  it('keeps answering /healthz while 50 hostile requests arrive, 4 at a time, and refuses each with a 4xx', async () => {
    const payloads: Array<{ body: string; type?: string }> = [
      { body: brackets800k, type: YAML },
      { body: jsonBrackets800k, type: JSON_TYPE },
      { body: ors20k, type: YAML },
      { body: ors2k, type: YAML },
      { body: deepJson100k, type: JSON_TYPE },
      { body: bracketsUnderSize, type: JSON_TYPE },
      { body: ors2k },
      { body: brackets800k, type: 'image/png' },
    ];
    // Warm up the routes and the compiler: the first requests pay for JIT compilation once per
    // process, which is not what this test is about.
    for (const { body, type } of payloads) await post('/api/v1/queries?deploy=false', body, type);
    // bench:hostile-flood asks for a longer flood (more probes to judge the latency by).
    const floodTotal = Number(process.env.SLUICE_FLOOD_TOTAL ?? 50);
    const idle: number[] = [];
    for (let i = 0; i < 50; i++) {
      const start = performance.now();
      await (await fetch(`${t.base}/healthz`)).text();
      idle.push(performance.now() - start);
      await new Promise((r) => setTimeout(r, 20));
    }

    // The attacker is another process, as it would be: its work is not this event loop's. It
    // starts and prepares its requests before the probes begin.
    const client = spawn(process.execPath, [FLOOD_CLIENT], { stdio: ['pipe', 'pipe', 'inherit'] });
    const output = readline.createInterface({ input: client.stdout })[Symbol.asyncIterator]();
    const exited = new Promise<number | null>((resolve) => client.on('exit', resolve));
    client.stdin.write(
      `${JSON.stringify({ url: `${t.base}/api/v1/queries?deploy=false`, token: t.token, total: floodTotal, concurrency: 4, payloads })}\n`,
    );
    expect((await output.next()).value).toBe('ready');

    let flooding = true;
    const latencies: number[] = [];
    const probeStatuses: number[] = [];
    const probe = (async () => {
      while (flooding) {
        const start = performance.now();
        const res = await fetch(`${t.base}/healthz`);
        await res.text();
        latencies.push(performance.now() - start);
        probeStatuses.push(res.status);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    client.stdin.write('go\n');
    const statusLine = (await output.next()).value as string;
    const code = await exited;
    flooding = false;
    await probe;

    expect(code).toBe(0);
    const statuses = JSON.parse(statusLine) as number[];
    expect(statuses).toHaveLength(floodTotal);
    expect(statuses.every((s) => s === 415 || s === 422)).toBe(true);
    expect(latencies.length).toBeGreaterThan(3);
    expect(probeStatuses.every((status) => status === 200)).toBe(true);
    if (process.env.SLUICE_FLOOD_REPORT)
      fs.writeFileSync(
        process.env.SLUICE_FLOOD_REPORT,
        JSON.stringify({ idle, during: latencies, statuses }),
      );
  });
});
