// What this instance's committed transactions wrote, per partition: the highest base offset of
// any record batch it sent. Kafka's last stable offset (the read_committed end the planner lists)
// passes a transaction's records only once the coordinator has written its markers, some time
// after the commit is answered; until then a reader sees nothing new. A query run as
// availableNow must not take that window for "no more data" (the source stage's repartitioned
// rows would never be aggregated), so it asks whether the listed ends have passed its writes.
import type { RecordMetadata } from 'kafkajs';

export class CommittedWrites {
  private readonly highest = new Map<string, Map<number, number>>();

  /** Records the batches a transaction sent; call once the transaction has committed. */
  note(sent: RecordMetadata[]): void {
    for (const m of sent) {
      if (m.baseOffset === undefined) continue;
      const base = Number(m.baseOffset);
      if (!Number.isSafeInteger(base) || base < 0) continue;
      let byPartition = this.highest.get(m.topicName);
      if (!byPartition) this.highest.set(m.topicName, (byPartition = new Map()));
      if (base > (byPartition.get(m.partition) ?? -1)) byPartition.set(m.partition, base);
    }
  }

  /** The highest base offset written per partition of `topic` (empty when none). */
  of(topic: string): ReadonlyMap<number, number> {
    return this.highest.get(topic) ?? new Map();
  }
}

/**
 * Whether every write is visible at the listed read_committed ends: a partition's last stable
 * offset past a batch's base offset means the transaction holding it is complete (committed or
 * aborted, its marker written), so reading to that end reads it.
 */
export function writesVisible(
  written: ReadonlyMap<number, number>,
  latest: ReadonlyMap<number, { latest: number }> | undefined,
): boolean {
  for (const [partition, base] of written) {
    if ((latest?.get(partition)?.latest ?? 0) <= base) return false;
  }
  return true;
}
