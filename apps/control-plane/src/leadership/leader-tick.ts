// One leader-only periodic task: an interval that runs `work` only while this replica leads (two
// replicas doing the same pass would scale, trim or re-enqueue the same things twice), never two
// passes at once (a slow pass makes the next ticks no-ops rather than piling up), a failure logged
// at warn and retried by the next tick, and a stop that lets a pass under way finish before the
// database connections close. The scaling loop, progress retention and operation recovery use it.
import type { SchedulerRegistry } from '@nestjs/schedule';
import type { LeaderElection } from './leader-election.service';

export interface LeaderTickOptions {
  /** Names the interval in the SchedulerRegistry and the task in warnings. */
  readonly name: string;
  readonly everyMs: number;
  readonly leadership: Pick<LeaderElection, 'isLeader'>;
  /** One pass. A rejection is logged at warn; the next tick tries again. */
  readonly work: () => Promise<unknown>;
  readonly warn: (message: string) => void;
  /** Registers the interval where Nest's scheduler lists them (absent: a bare interval). */
  readonly scheduler?: Pick<SchedulerRegistry, 'addInterval' | 'deleteInterval' | 'doesExist'>;
}

export class LeaderTick {
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | null = null;

  constructor(private readonly options: LeaderTickOptions) {}

  /** Starts the interval (a second start is a no-op). The first pass comes one interval later. */
  start(): void {
    if (this.timer) return;
    const { name, everyMs, scheduler } = this.options;
    this.timer = setInterval(() => void this.runOnce(), everyMs);
    // Never what keeps the process alive: shutdown goes through stop().
    this.timer.unref();
    scheduler?.addInterval(name, this.timer);
  }

  /** Clears the interval, then waits for a pass under way to finish. */
  async stop(): Promise<void> {
    const { name, scheduler } = this.options;
    if (scheduler?.doesExist('interval', name)) scheduler.deleteInterval(name);
    else clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }

  /**
   * One tick: runs a pass if this replica leads and none is under way; resolves when it is done.
   * Never rejects (the interval has nobody to report to).
   */
  runOnce(): Promise<void> {
    if (!this.options.leadership.isLeader) return Promise.resolve();
    if (this.inFlight) return this.inFlight;
    const pass = this.options
      .work()
      .then(
        () => undefined,
        (e: unknown) => {
          const message = e instanceof Error ? e.message : String(e);
          this.options.warn(`${this.options.name} failed (next tick retries): ${message}`);
        },
      )
      .finally(() => {
        this.inFlight = null;
      });
    this.inFlight = pass;
    return pass;
  }
}
