// Watches a child process the script started and stops it on request.
//
// A ChildProcess reports its end once, through 'exit', with `code` null and `signal` set when a
// signal ended it (kill -9, OOM killer). Checking `child.exitCode !== null` to decide whether to
// wait for 'exit' therefore waits forever for a child killed by a signal: the event has passed
// and exitCode stays null. Here the end is captured once, at spawn time, in a promise that any
// number of callers can await before or after it happened.
import type { ChildProcess } from 'node:child_process';

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (e.g. the command does not exist). */
  error?: Error;
}

export interface Supervised {
  readonly pid: number | undefined;
  /** Settles when the child has ended, however and whenever that happened. */
  readonly exited: Promise<ChildExit>;
  /** The end, once it happened; undefined while the child runs. */
  readonly exit: ChildExit | undefined;
  /** True once stop() was called: an end after that was asked for, not a crash. */
  readonly stopRequested: boolean;
  /**
   * Asks the child to stop (SIGTERM), then kills it (SIGKILL) if it is still there after
   * `graceMs`. A child started with `detached: true` leads its own process group, and the
   * signals go to the whole group so its helpers do not outlive it.
   */
  stop(graceMs: number): Promise<ChildExit>;
}

/** "exited with code 1", "was killed by SIGKILL", "could not start: spawn x ENOENT". */
export function describeExit(e: ChildExit): string {
  if (e.error) return `could not start: ${e.error.message}`;
  if (e.signal) return `was killed by ${e.signal}`;
  return `exited with code ${e.code}`;
}

export function supervise(child: ChildProcess, opts: { group?: boolean } = {}): Supervised {
  let exit: ChildExit | undefined;
  let stopRequested = false;
  const exited = new Promise<ChildExit>((resolve) => {
    const done = (e: ChildExit) => {
      exit ??= e;
      resolve(exit);
    };
    // Attached synchronously after spawn, so no end can be missed.
    child.once('exit', (code, signal) => done({ code, signal }));
    // Without a pid the process never existed and 'exit' will not come.
    child.once('error', (error) => {
      if (child.pid === undefined) done({ code: null, signal: null, error });
    });
  });

  const signal = (sig: NodeJS.Signals): void => {
    if (exit || child.pid === undefined) return;
    try {
      if (opts.group) process.kill(-child.pid, sig);
      else child.kill(sig);
    } catch {
      // Already gone between the check and the signal: 'exit' settles `exited`.
    }
  };

  return {
    pid: child.pid,
    exited,
    get exit() {
      return exit;
    },
    get stopRequested() {
      return stopRequested;
    },
    async stop(graceMs: number): Promise<ChildExit> {
      stopRequested = true;
      signal('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), graceMs);
      });
      const first = await Promise.race([exited, late]);
      clearTimeout(timer);
      if (first !== 'late') return first;
      signal('SIGKILL');
      return exited;
    },
  };
}
