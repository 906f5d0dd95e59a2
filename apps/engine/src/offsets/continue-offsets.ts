// Where a fresh checkpoint starts when it continues an older one (a `new-checkpoint` upgrade with
// `startingOffsets: continue`): each source partition at the end of the last batch the old
// checkpoint made visible, so the new version skips nothing and reads nothing twice. Spark's
// recovery rule decides "visible": a batch with a commit-log entry is; the newest planned batch
// without one is visible only if its marker says so (the output committed, the commit-log write
// was lost), otherwise it starts again from its first offset.
import type { CheckpointStore, OffsetLogEntry } from '../checkpoint/checkpoint-store';

export interface ContinuePoint {
  /** `topic:partition` → first offset the new checkpoint reads. */
  offsets: Map<string, number>;
  /** Source tasks whose newest planned batch was not committed (it is read again). */
  replanned: string[];
}

export const partitionKey = (topic: string, partition: number): string => `${topic}:${partition}`;

export async function continuePoint(
  old: CheckpointStore,
  /** Did the old checkpoint's marker make this planned batch visible? */
  visible: (task: string, entry: OffsetLogEntry) => Promise<boolean>,
): Promise<ContinuePoint> {
  const offsets = new Map<string, number>();
  const replanned: string[] = [];
  for (const task of await old.tasks()) {
    if (!task.startsWith('src.')) continue;
    const { offsets: wal, commit } = await old.latest(task);
    if (!wal) continue;
    const { topic, partition, start, end } = wal.range;
    const done = (commit && commit.batchId >= wal.batchId) || (await visible(task, wal));
    if (!done) replanned.push(task);
    offsets.set(partitionKey(topic, partition), done ? end : start);
  }
  return { offsets, replanned };
}

/** Spark's JSON form of starting offsets, for logs and progress: {"topic":{"0":12}}. */
export function offsetsJson(offsets: Map<string, number>): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const [key, offset] of offsets) {
    const cut = key.lastIndexOf(':');
    (out[key.slice(0, cut)] ??= {})[key.slice(cut + 1)] = offset;
  }
  return out;
}
