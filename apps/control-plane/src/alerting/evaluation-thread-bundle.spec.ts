// The evaluation thread started from its prebuilt bundle (build/bundle-cache.ts), not from
// TypeScript, deciding what the core decides.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EvaluationCore } from './evaluation-core';
import type { EvaluationInput, RuleInput } from './evaluation-messages';
import { EvaluationThread } from './evaluation-thread';
import { packLags } from './packed-lags';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-worker-bundle-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

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
      full: true,
      queries: {
        upserts: [
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
        removed: [],
      },
      alerts: { upserts: [], removed: [] },
      lags: packLags(new Map()),
      lagsGone: [],
      dashboardUrl: 'http://dash.example',
      saveHistories: 0,
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
