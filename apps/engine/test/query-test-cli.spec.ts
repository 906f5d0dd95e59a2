// `engine test` through the real CLI process (no servers): exit 0 when the output equals the
// expected file, exit 1 with a -/+ diff when it does not, recovery from the checkpoint at
// `# restart`, and FILE:LINE errors for a bad input or expected file.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CLI = path.join(ROOT, 'apps/engine/src/cli.ts');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-engine-test-cli-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
// Spawning tsx on a loaded 2-core machine takes tens of seconds; this is no speed assertion.
const TIMEOUT = 240_000;

const SPEC = `name: clicks-per-user
sources:
  clicks:
    kafka: { topic: clicks }
    format: json
    schema: { user_id: string, ts: timestamp }
sql: SELECT user_id, count(*) AS clicks FROM clicks GROUP BY user_id
sink:
  kafka: { topic: out }
outputMode: update
options: { numShufflePartitions: 2 }
`;
const click = (user: string, second: number): string =>
  JSON.stringify({ user_id: user, ts: `2026-01-01T00:00:${String(second).padStart(2, '0')}Z` });

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

function engineTest(spec: string, input: string, expected: string) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', CLI, 'test', '--spec', spec, '--input', input, '--expect', expected],
      { cwd: ROOT, timeout: TIMEOUT },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('engine test', () => {
  const spec = write('spec.yaml', SPEC);

  it(
    'exits 0 when every batch matches, whatever the order of rows within a batch',
    async () => {
      const input = write(
        'pass.jsonl',
        [click('u1', 1), click('u2', 2), '# batch', click('u1', 3)].join('\n'),
      );
      const expected = write(
        'pass-expected.jsonl',
        [
          '{"clicks": 1, "user_id": "u2"}',
          '{"user_id": "u1", "clicks": 1}',
          '# batch',
          '{"user_id": "u1", "clicks": 2}',
        ].join('\n'),
      );
      const r = await engineTest(spec, input, expected);
      expect(r.stdout).toContain('PASS');
      expect(r.stdout).toContain('2 batch(es), 3 row(s)');
      expect(r.code).toBe(0);
    },
    TIMEOUT,
  );

  it(
    'exits 1 with a readable diff naming the batch, its input lines and the expected lines',
    async () => {
      const input = write(
        'fail.jsonl',
        [click('u1', 1), '# batch', click('u1', 2), click('u2', 3)].join('\n'),
      );
      const expected = write(
        'fail-expected.jsonl',
        [
          '{"user_id": "u1", "clicks": 1}',
          '# batch',
          '{"user_id": "u1", "clicks": 5}',
          '{"user_id": "u2", "clicks": 1}',
        ].join('\n'),
      );
      const r = await engineTest(spec, input, expected);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('FAIL');
      expect(r.stdout).toContain('batch 1 (input lines 3-4):');
      expect(r.stdout).toContain(`  - {"clicks":5,"user_id":"u1"}   (${expected}:3)`);
      expect(r.stdout).toContain('  + {"clicks":2,"user_id":"u1"}');
      // Batch 0 and u2's row matched: they are not in the diff.
      expect(r.stdout).not.toContain('batch 0');
      expect(r.stdout).not.toContain('u2');
    },
    TIMEOUT,
  );

  it(
    'recovers state and offsets from the checkpoint at "# restart": counts go on, nothing is re-read',
    async () => {
      const rows = [
        click('u1', 1),
        click('u2', 2),
        '# restart',
        click('u1', 3),
        click('u2', 4),
        '# restart',
        click('u1', 5),
      ];
      const input = write('restart.jsonl', rows.join('\n'));
      const expected = write(
        'restart-expected.jsonl',
        [
          '{"user_id": "u1", "clicks": 1}',
          '{"user_id": "u2", "clicks": 1}',
          '# batch',
          '{"user_id": "u1", "clicks": 2}',
          '{"user_id": "u2", "clicks": 2}',
          '# batch',
          '{"user_id": "u1", "clicks": 3}',
        ].join('\n'),
      );
      const r = await engineTest(spec, input, expected);
      expect(r.stderr).toContain('restarted from the checkpoint after batch 1');
      expect(r.stderr).toContain('restarted from the checkpoint after batch 2');
      expect(r.stdout).toContain('PASS');
      expect(r.code).toBe(0);
    },
    TIMEOUT,
  );

  it(
    'names the line of a bad input or expected file and runs nothing',
    async () => {
      const good = write('good-expected.jsonl', '{"user_id": "u1", "clicks": 1}\n');
      const badMarker = write(
        'bad-marker.jsonl',
        [click('u1', 1), '# batch', '#wait 5', click('u1', 2)].join('\n'),
      );
      let r = await engineTest(spec, badMarker, good);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${badMarker}:3: unknown marker "#wait 5"`);
      expect(r.stderr).not.toContain('batch 1/');

      const badWatermark = write('bad-watermark.jsonl', [click('u1', 1), '# watermark yesterday'].join('\n'));
      r = await engineTest(spec, badWatermark, good);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${badWatermark}:2: "# watermark" needs a timestamp`);

      const input = write('ok.jsonl', click('u1', 1));
      const badExpected = write('bad-expected.jsonl', '{"user_id": "u1", "clicks": 1}\n{"user_id": \n');
      r = await engineTest(spec, input, badExpected);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${badExpected}:2: not JSON`);
    },
    TIMEOUT,
  );
});
