// The worker's prebuilt bundle: built once per content hash, rebuilt when a source changes, and
// the evaluation thread started from it (not from TypeScript) deciding what the core decides.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EvaluationCore } from './evaluation-core';
import type { EvaluationInput, RuleInput } from './evaluation-messages';
import { EvaluationThread } from './evaluation-thread';
import { packLags } from './packed-lags';
import { workerBundle } from './worker-bundle';

/** What a bundle exports (loaded as a CommonJS module, as the worker thread loads it). */
const answerOf = (file: string) => (createRequire(__filename)(file) as { answer: number }).answer;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-worker-bundle-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('workerBundle', () => {
  it('builds once per content hash and again when an imported file changes', async () => {
    const src = path.join(tmp, 'src');
    const out = path.join(tmp, 'out');
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(src, 'answer.ts'), 'export const answer: number = 41;\n');
    fs.writeFileSync(
      path.join(src, 'entry.ts'),
      "import { answer } from './answer';\nmodule.exports = { answer: answer + 1 };\n",
    );
    const entry = path.join(src, 'entry.ts');
    const first = await workerBundle(entry, out);
    expect(first.built).toBe(true);
    expect(first.file.endsWith('.js')).toBe(true);
    expect(answerOf(first.file)).toBe(42);

    const again = await workerBundle(entry, out);
    expect(again).toEqual({ file: first.file, built: false });

    fs.writeFileSync(path.join(src, 'answer.ts'), 'export const answer: number = 99;\n');
    const changed = await workerBundle(entry, out);
    expect(changed.built).toBe(true);
    expect(changed.file).not.toBe(first.file);
    expect(answerOf(changed.file)).toBe(100);
  });

  it('refuses an entry that does not compile (the thread then falls back to the source)', async () => {
    const entry = path.join(tmp, 'broken.ts');
    fs.writeFileSync(entry, "import { nothing } from './does-not-exist';\nconsole.log(nothing);\n");
    await expect(workerBundle(entry, path.join(tmp, 'out-broken'))).rejects.toThrow(/does-not-exist/);
  });
});

describe('EvaluationThread from the bundle', () => {
  it('starts its thread from the prebuilt JavaScript and evaluates as the core does', async () => {
    const dir = path.join(tmp, 'thread');
    const thread = new EvaluationThread(dir);
    const rule: RuleInput = {
      id: '00000000-0000-4000-8000-000000000001',
      name: 'QueryFailed',
      kind: 'queryHealth',
      params: { check: 'failed' },
      forSeconds: 0,
      severity: 'critical',
      labels: {},
      annotations: { summary: '{{ $labels.query }} failed' },
      queries: [],
    };
    const nowMs = Date.parse('2026-12-02T12:00:00Z');
    const make = (): EvaluationInput => ({
      nowMs,
      rules: [rule],
      queries: [
        {
          id: '00000000-0000-4000-8000-0000000000a1',
          name: 'orders',
          phase: 'FAILED',
          desiredState: 'RUNNING',
          lastProgressAtMs: null,
          conditions: [{ status: 'False', message: 'exit 1' }],
          crashTimes: [],
        },
      ],
      alerts: { full: true, upserts: [], removed: [] },
      lags: packLags(new Map()),
      dashboardUrl: 'http://dash.example',
      saveHistories: false,
    });
    const out = await thread.evaluate(make(), []);
    expect(EvaluationThread.runningSource()).toBe('bundle');
    expect(fs.readdirSync(dir).some((f) => /^alert-evaluation\.worker\.[0-9a-f]{16}\.js$/.test(f))).toBe(
      true,
    );
    const here = new EvaluationCore().evaluate(make());
    expect(out.transitions).toBe(1);
    expect(out.alertsAfter).toEqual(here.alertsAfter);
    expect(out.writes.transitions.map((t) => [t.from, t.to])).toEqual(
      here.writes.transitions.map((t) => [t.from, t.to]),
    );
    await thread.close();
  });
});
