// The `compat` command through the real CLI process (no servers): exit codes 0 / 3 / 1, the
// --json report, and FILE:LINE:COL errors for a spec that does not compile.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { UpgradeReport } from '@sluice/query-plan';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CLI = path.join(ROOT, 'apps/engine/src/cli.ts');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-compat-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const spec = (sql: string, maxOffsets = 1000): string => `name: clicks-per-user
sources:
  clicks:
    kafka: { topic: clicks }
    schema: { user_id: string, ts: timestamp, bytes: long }
    watermark: { column: ts, delay: 10 seconds }
sql: ${sql}
sink:
  kafka: { topic: out }
outputMode: update
options: { maxOffsetsPerTrigger: ${maxOffsets} }
`;
const SQL =
  "SELECT window.start AS ws, user_id, sum(bytes) AS b FROM clicks GROUP BY window(ts, '1 minute'), user_id";

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

function compat(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', CLI, 'compat', ...args],
      { cwd: ROOT, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('engine compat', () => {
  const old = write('old.yaml', spec(SQL));

  it('exits 0 for a compatible upgrade and prints one line per change', async () => {
    const next = write('rate.yaml', spec(SQL, 50));
    // Concurrent: each run starts a Node process with tsx, which takes seconds.
    const [human, json] = await Promise.all([
      compat('--from', old, '--to', next),
      compat('--from', old, '--to', next, '--json'),
    ]);
    expect(human).toMatchObject({ code: 0, stderr: '' });
    expect(human.stdout).toMatch(/^allowed +options\.rate \(options\.maxOffsetsPerTrigger\): /m);
    expect(human.stdout).toMatch(/^compatible: /m);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      compatible: true,
      changes: [
        expect.objectContaining({ kind: 'options.rate', severity: 'allowed', before: '1000', after: '50' }),
      ],
    });
  }, 60_000);

  it('exits 3 for an incompatible upgrade; --json is exactly the report', async () => {
    const next = write('window.yaml', spec(SQL.replace("'1 minute'", "'5 minutes'")));
    const [json, human] = await Promise.all([
      compat('--from', old, '--to', next, '--json'),
      compat('--from', old, '--to', next),
    ]);
    expect(json.code).toBe(3);
    const report = JSON.parse(json.stdout) as UpgradeReport;
    expect(Object.keys(report).sort()).toEqual(['changes', 'compatible']);
    expect(report.compatible).toBe(false);
    expect(report.changes).toEqual([
      expect.objectContaining({ kind: 'aggregate.window', severity: 'incompatible', operator: 'aggregate' }),
    ]);
    expect(human.code).toBe(3);
    expect(human.stdout).toMatch(/^incompatible +aggregate\.window \(aggregate sql\): window changed/m);
  }, 60_000);

  it('exits 1 with FILE:LINE:COL errors for a spec that does not compile', async () => {
    const bad = write('bad.yaml', spec('SELECT nope FROM clicks'));
    const result = await compat('--from', old, '--to', bad);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(new RegExp(`^${bad.replaceAll('.', '\\.')}:7:\\d+ sql: .*nope`, 'm'));
  }, 60_000);
});
