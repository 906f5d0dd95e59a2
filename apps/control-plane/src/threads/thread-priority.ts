// Background threads (progress ingest, alert evaluation) yield the CPU to the API's event loop.
// On Linux each thread has a nice value of its own and setpriority(2) takes a thread id; a thread
// reads its id from /proc/thread-self. Elsewhere (or where raising the value is not permitted) the
// thread keeps the process's priority: slower API tails under load, nothing else.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The niceness of the control plane's background threads (0 is the API's; 19 the lowest). */
export const BACKGROUND_THREAD_NICENESS = 10;

/** This thread's kernel id, or undefined where /proc/thread-self is not. */
export function currentThreadId(): number | undefined {
  try {
    const tid = Number(path.basename(fs.readlinkSync('/proc/thread-self')));
    return Number.isInteger(tid) && tid > 0 ? tid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Lowers the calling thread's priority to `niceness`, never raising it (a control plane started
 * at a lower priority keeps it); says whether it could.
 */
export function lowerThreadPriority(niceness = BACKGROUND_THREAD_NICENESS): boolean {
  const tid = currentThreadId();
  if (tid === undefined) return false;
  try {
    os.setPriority(tid, Math.max(os.getPriority(tid), niceness));
    return true;
  } catch {
    return false;
  }
}
