import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BACKGROUND_THREAD_NICENESS, currentThreadId } from './thread-priority';

/** Field 19 of /proc/<pid>/task/<tid>/stat: the thread's nice value. */
function niceOf(statPath: string): number {
  const stat = fs.readFileSync(statPath, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

// A worker thread lowers itself in a process of its own (a test must not renice the runner's).
const WORKER = [
  `const t = require(${JSON.stringify(path.join(__dirname, 'thread-priority.ts'))});`,
  `require('node:worker_threads').parentPort.postMessage({ lowered: t.lowerThreadPriority(), tid: t.currentThreadId() });`,
].join('\n');
const CHILD = `
const fs = require('node:fs');
const { Worker } = require('node:worker_threads');
const nice = (p) => { const s = fs.readFileSync(p, 'utf8'); return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[16]); };
new Worker(${JSON.stringify(WORKER)}, { eval: true }).once('message', (m) => {
  const worker = m.tid === undefined ? null : nice('/proc/self/task/' + m.tid + '/stat');
  console.log(JSON.stringify({ ...m, worker, main: nice('/proc/self/stat') }));
  process.exit(0);
});
`;

describe('thread priority', () => {
  const linux = fs.existsSync('/proc/thread-self');

  it('names the calling thread (the main thread is the process)', () => {
    expect(currentThreadId()).toBe(linux ? process.pid : undefined);
    if (linux) expect(niceOf('/proc/thread-self/stat')).toBe(niceOf('/proc/self/stat'));
  });

  it('lowers only the thread that asks: a worker at the background niceness, the API thread unchanged', () => {
    const run = spawnSync(process.execPath, ['--require', '@swc-node/register', '-e', CHILD], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout.trim()) as {
      lowered: boolean;
      tid?: number;
      worker: number;
      main: number;
    };
    if (!linux) {
      expect(out.lowered).toBe(false);
      return;
    }
    expect(out.lowered).toBe(true);
    expect(out.tid).not.toBe(run.pid);
    // Never raised: a control plane started at a lower priority than the background's keeps it.
    expect(out.worker).toBe(Math.max(BACKGROUND_THREAD_NICENESS, out.main));
    expect(out.main).toBe(niceOf('/proc/self/stat'));
  });
});
