// supervise() against real child processes: the end of a child killed by a signal is seen even
// when nobody was waiting at that moment (the demo used to wait forever for it), and stop()
// escalates to SIGKILL for a child that ignores SIGTERM, helpers in its process group included.
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { describeExit, supervise } from '../supervise';
import { pidAlive as alive } from '../stack/proc';

const started: number[] = [];
afterEach(() => {
  for (const pid of started.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
});

/** A node child running `code`; its pid is remembered so a failed test leaves nothing behind. */
function node(code: string, detached = false) {
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'], detached });
  if (child.pid) started.push(child.pid);
  return child;
}

/** The first line the child prints (used to learn a grandchild's pid or that a handler is set). */
function firstLine(child: ReturnType<typeof node>): Promise<string> {
  return new Promise((resolve) => child.stdout?.once('data', (d: Buffer) => resolve(d.toString().trim())));
}

describe('supervise', () => {
  it('reports a SIGKILL that happened before anyone waited, and waiting afterwards returns at once', async () => {
    const child = node('setInterval(() => {}, 1000)');
    const sup = supervise(child);
    process.kill(child.pid!, 'SIGKILL');
    // Let the 'exit' event pass with nobody awaiting it: the case that hung the demo.
    await new Promise((r) => setTimeout(r, 300));
    expect(sup.exit).toEqual({ code: null, signal: 'SIGKILL' });
    const t0 = Date.now();
    const end = await sup.exited;
    expect(Date.now() - t0).toBeLessThan(50);
    expect(describeExit(end)).toBe('was killed by SIGKILL');
    expect(sup.stopRequested).toBe(false);
    // Stopping a child that is already gone does not wait for its grace period either.
    await expect(sup.stop(10_000)).resolves.toEqual({ code: null, signal: 'SIGKILL' });
  });

  it('reports an exit code', async () => {
    const sup = supervise(node('process.exit(3)'));
    expect(describeExit(await sup.exited)).toBe('exited with code 3');
  });

  it('reports a command that could not start instead of waiting for an exit that never comes', async () => {
    const sup = supervise(spawn('/nonexistent/sluice-command', [], { stdio: 'ignore' }));
    const end = await sup.exited;
    expect(end.error).toBeInstanceOf(Error);
    expect(describeExit(end)).toMatch(/^could not start: .*ENOENT/);
  });

  it('stop() sends SIGTERM and a child that honours it ends within the grace period', async () => {
    const child = node(
      "process.on('SIGTERM', () => process.exit(0)); console.log('ready'); setInterval(() => {}, 1000)",
    );
    await firstLine(child);
    const sup = supervise(child);
    const t0 = Date.now();
    await expect(sup.stop(10_000)).resolves.toEqual({ code: 0, signal: null });
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(sup.stopRequested).toBe(true);
  });

  it('stop() kills a child that ignores SIGTERM, and with group: true its helpers too', async () => {
    // The child starts a helper in its own process group (as the control plane's group would
    // hold), prints the helper's pid, and ignores SIGTERM.
    const child = node(
      "const { spawn } = require('node:child_process');" +
        "const h = spawn(process.execPath, ['-e', \"process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)\"], { stdio: 'ignore' });" +
        "process.on('SIGTERM', () => {}); console.log(h.pid); setInterval(() => {}, 1000)",
      true,
    );
    const helper = Number(await firstLine(child));
    started.push(helper);
    expect(alive(helper)).toBe(true);
    const sup = supervise(child, { group: true });
    const t0 = Date.now();
    const end = await sup.stop(500);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(450);
    expect(end).toEqual({ code: null, signal: 'SIGKILL' });
    // The helper got the same SIGKILL through the group; give the kernel a moment to reap it.
    for (let i = 0; i < 40 && alive(helper); i++) await new Promise((r) => setTimeout(r, 50));
    expect(alive(helper)).toBe(false);
  });
});
