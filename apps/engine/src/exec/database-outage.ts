// An unreachable database (PostgreSQL sink or checkpoint store) is waited out, not crashed on: a
// crash would only restart the engine into the same outage, and the control plane counts crashes
// towards FAILED. Nothing is lost by waiting — the batch's offsets are in the write-ahead log and
// its output is either committed with its marker or not at all — so the engine retries with a
// bounded exponential backoff and carries on when the database answers again.
import { isDatabaseUnavailable } from '../pg/pg-errors';

export const OUTAGE_BACKOFF_BASE_MS = 500;
/** Bounded so that progress resumes within seconds of the database coming back. */
export const OUTAGE_BACKOFF_MAX_MS = 10_000;

export class OutageBackoff {
  private failures = 0;
  private sinceMs: number | undefined;

  constructor(
    private readonly baseMs = OUTAGE_BACKOFF_BASE_MS,
    private readonly maxMs = OUTAGE_BACKOFF_MAX_MS,
  ) {}

  get active(): boolean {
    return this.sinceMs !== undefined;
  }

  /** How long the current outage has lasted (0 when there is none). */
  elapsedMs(nowMs: number): number {
    return this.sinceMs === undefined ? 0 : nowMs - this.sinceMs;
  }

  /** Records a failed attempt; returns how long to wait before the next one. */
  fail(nowMs: number): number {
    this.sinceMs ??= nowMs;
    this.failures++;
    return Math.min(this.baseMs * 2 ** (this.failures - 1), this.maxMs);
  }

  /** Records a successful attempt; returns the outage's length if this ended one. */
  recover(nowMs: number): number | undefined {
    const since = this.sinceMs;
    this.failures = 0;
    this.sinceMs = undefined;
    return since === undefined ? undefined : nowMs - since;
  }
}

/** A stop (SIGTERM, drain) arrived while the engine was waiting for its database. */
export class StoppedWhileWaitingError extends Error {
  constructor(what: string) {
    super(`stopped while waiting for the ${what} to become reachable`);
    this.name = 'StoppedWhileWaitingError';
  }
}

/**
 * Runs `work`, retrying while it fails because the database is unreachable (other errors are
 * thrown at once). Used for start-up steps, which have no trigger loop to retry them.
 */
export async function retryWhileUnavailable<T>(
  work: () => Promise<T>,
  opts: { what: string; warn: (msg: string) => void; stopped: () => boolean; backoff?: OutageBackoff },
): Promise<T> {
  const backoff = opts.backoff ?? new OutageBackoff();
  for (;;) {
    try {
      const result = await work();
      const outage = backoff.recover(Date.now());
      if (outage !== undefined)
        opts.warn(`${opts.what} reachable again after ${Math.round(outage / 1000)} s`);
      return result;
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err;
      if (opts.stopped()) throw new StoppedWhileWaitingError(opts.what);
      const waitMs = backoff.fail(Date.now());
      opts.warn(
        `${opts.what} unreachable (${(err as Error).message}); retrying in ${(waitMs / 1000).toFixed(1)} s`,
      );
      const deadline = Date.now() + waitMs;
      // Sleep in short steps so a stop request does not wait out the whole backoff.
      while (Date.now() < deadline && !opts.stopped())
        await new Promise((r) => setTimeout(r, Math.min(200, deadline - Date.now())));
      if (opts.stopped()) throw new StoppedWhileWaitingError(opts.what);
    }
  }
}
