// Where a trigger's tasks meet to commit together: each task expected at the start of the trigger
// either contributes (its batch is ready to commit) or withdraws (it failed, or gave up its
// batch); once every one has done one or the other, `commitAll` runs once over the contributions
// and its outcome is every contributor's. One Kafka transaction per trigger instead of one per
// task (kafka-output-log.ts) rests on this: a trigger's commit costs one transaction's requests
// whatever the number of partitions the instance owns.

export class TriggerRendezvous<C> {
  private readonly waiting: Set<string>;
  private readonly joined: Array<{ task: string; contribution: C }> = [];
  private readonly settle: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  private started = false;

  constructor(
    tasks: Iterable<string>,
    private readonly commitAll: (contributions: C[]) => Promise<void>,
  ) {
    this.waiting = new Set(tasks);
  }

  /** Tasks that have neither contributed nor withdrawn yet. */
  get pending(): number {
    return this.waiting.size;
  }

  /**
   * Adds `task`'s contribution; resolves once the common commit succeeded, rejects with its error
   * otherwise. A task that was not expected, or that already contributed or withdrew, is refused:
   * its batch would otherwise commit outside the transaction or twice.
   */
  contribute(task: string, contribution: C): Promise<void> {
    if (!this.waiting.delete(task))
      return Promise.reject(new Error(`task ${task} is not expected in this trigger's transaction`));
    const done = new Promise<void>((resolve, reject) => this.settle.push({ resolve, reject }));
    this.joined.push({ task, contribution });
    this.maybeCommit();
    return done;
  }

  /** `task` takes no part (it failed or gave up its batch); a task already counted is left alone. */
  withdraw(task: string): void {
    if (this.waiting.delete(task)) this.maybeCommit();
  }

  private maybeCommit(): void {
    if (this.waiting.size > 0 || this.started) return;
    this.started = true;
    if (this.joined.length === 0) return;
    const settle = this.settle;
    this.commitAll(this.joined.map((j) => j.contribution)).then(
      () => settle.forEach((s) => s.resolve()),
      (e: unknown) => settle.forEach((s) => s.reject(e)),
    );
  }
}
