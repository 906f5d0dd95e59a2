// The control plane as a real process: a bad config exits 1 naming the variable; SIGTERM stops
// it cleanly (exit 0) after it served requests.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '@sluice/testing';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const MAIN = path.join(ROOT, 'apps/control-plane/src/main.ts');

function startControlPlane(env: Record<string, string>) {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', MAIN], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => ({ stdout, stderr }) };
}

describe('control-plane process', () => {
  it('exits 1 and names the variable when the config is invalid', async () => {
    const cp = startControlPlane({ SLUICE_API_PORT: 'not-a-port', KAFKA_BROKERS: 'nohostport' });
    expect(await cp.exited).toBe(1);
    const { stderr } = cp.output();
    expect(stderr).toContain('invalid configuration');
    expect(stderr).toMatch(/SLUICE_API_PORT: .*not-a-port/);
    expect(stderr).toMatch(/KAFKA_BROKERS: must be a comma-separated list of host:port/);
    expect(stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
  });

  it('serves requests and shuts down cleanly on SIGTERM', async () => {
    const port = await freePort();
    const cp = startControlPlane({ SLUICE_API_PORT: String(port), LOG_LEVEL: 'info' });
    const deadline = Date.now() + 60_000;
    let ready = false;
    while (!ready && Date.now() < deadline) {
      ready = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (!ready) await new Promise((r) => setTimeout(r, 250));
    }
    expect(ready).toBe(true);
    // A request carrying a token: the secret must not reach the logs.
    const secret = 'slc_secret-that-must-not-be-logged';
    await fetch(`http://127.0.0.1:${port}/api/v1/tokens`, { headers: { Authorization: `Bearer ${secret}` } });
    // … nor a token put in the query string (never accepted, but a client may send one).
    const inUrl = 'slc_url-secret-that-must-not-be-logged';
    await fetch(`http://127.0.0.1:${port}/api/v1/queries?access_token=${inUrl}&limit=3`);
    cp.child.kill('SIGTERM');
    expect(await cp.exited).toBe(0);
    const lines = cp
      .output()
      .stdout.split('\n')
      .filter((l) => l.startsWith('{'));
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(() => JSON.parse(l)).not.toThrow(); // pino JSON only
    expect(cp.output().stdout).toContain('/api/v1/tokens');
    expect(cp.output().stdout).not.toContain(secret);
    expect(cp.output().stdout).toContain('access_token=[redacted]&limit=3');
    expect(cp.output().stdout).not.toContain(inUrl);
  });
});
