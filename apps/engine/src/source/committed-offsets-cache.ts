// The source group's committed offsets, read at most once per period (about a trigger): the rate
// limit's split across instances (trigger-planner.sourceBacklog) needs the other instances'
// positions, and one admin round trip per trigger is enough for that, not one per batch.
// Every sink kind commits the group's offsets (task-batch.ts, `commitPosition` or the sink's own
// transactional commit), so they are where every instance's partitions stand.

export class CommittedOffsetsCache {
  private value: ReadonlyMap<string, number | null> | undefined;
  private readAtMs = Number.NEGATIVE_INFINITY;

  constructor(
    /** Reads the group's committed offsets, keyed `topic:partition` (null: never committed). */
    private readonly read: () => Promise<ReadonlyMap<string, number | null>>,
    private readonly periodMs: number,
    private readonly warn: (message: string) => void,
  ) {}

  /** The offsets as of at most one period ago; undefined when the last read failed (even share then). */
  async get(nowMs: number): Promise<ReadonlyMap<string, number | null> | undefined> {
    if (nowMs - this.readAtMs < this.periodMs) return this.value;
    this.readAtMs = nowMs;
    try {
      this.value = await this.read();
    } catch (err) {
      // Only the split of the rate limit depends on it: fall back to the even share, not fail.
      this.value = undefined;
      this.warn(
        `committed offsets not read (rate limit shared by partition count): ${(err as Error).message}`,
      );
    }
    return this.value;
  }
}
