// Where a fresh checkpoint starts when it continues an older one (a `new-checkpoint` upgrade with
// `startingOffsets: continue`): each source partition at the end of the last batch the old
// checkpoint made visible, so the new version skips nothing and reads nothing twice. Spark's
// recovery rule decides "visible": a batch with a commit-log entry is; the newest planned batch
// without one is visible only if its marker says so (the output committed, the commit-log write
// was lost), otherwise it starts again from its first offset.
//
// A stateful old version also leaves its shuffle backlog: rows its source stage repartitioned
// (visible) that its shuffle stage never aggregated, because it was stopped, killed or failing.
// Those rows are in neither checkpoint unless the new version reads their source records again:
// `withBacklog` moves each source partition's start back to the oldest such record and lists
// exactly which offsets below the old end are read again (the others were the old version's).
// A record with several groups (sliding windows) may have been aggregated for some of its windows
// and not for others: its replay then carries the groups still to aggregate (PartialReplay), so
// the windows the old version counted do not count it a second time.
import { createHash } from 'node:crypto';
import type { CheckpointStore, OffsetLogEntry } from '../checkpoint/checkpoint-store';

export interface ContinuePoint {
  /** `topic:partition` → first offset the new checkpoint reads. */
  offsets: Map<string, number>;
  /** Source tasks whose newest planned batch was not committed (it is read again). */
  replanned: string[];
  /**
   * Old repartition-topic partition → first offset the old shuffle stage did not aggregate in a
   * visible batch (absent: the shuffle task never planned a batch, so from the earliest offset).
   */
  shuffle: Map<number, number>;
}

/**
 * The groups of one replayed record that the old version never aggregated. `h` is the hash of
 * all the record's groups in the old version (groupsHash): the new version keeps only `keys`
 * when it computes the same groups for the record, and processes the record whole otherwise
 * (another grouping or window: its groups are not the old table's, old + new is no sum there).
 */
export interface PartialReplay {
  h: string;
  keys: string[];
}

/** Offsets below `until` that the new version reads again: [start, end) ranges, ascending. */
export interface ReplaySet {
  until: number;
  ranges: Array<[number, number]>;
  /** Offset (decimal string) → the groups still to aggregate, for partly aggregated records. */
  partial?: Record<string, PartialReplay>;
}

/** Where a repartitioned row came from (the `o` of a ShuffledRow). */
export interface RowOrigin {
  topic: string;
  partition: number;
  offset: number;
  /**
   * Records with several groups: how many groups the record had, their hash, and this row's
   * group key. Absent for one-group records and for rows written before it was recorded.
   */
  groups?: { n: number; h: string; key: string };
}

/**
 * Bounds what a continue point may carry (it is stored once in the new checkpoint): a backlog
 * fragmented into more ranges than this is refused with a clear error rather than stored.
 */
export const MAX_REPLAY_RANGES = 200_000;

/** Bounds the group keys a continue point may carry for partly aggregated records (same reason). */
export const MAX_PARTIAL_GROUPS = 100_000;

/**
 * Identifies the set of groups one record falls into (their values: window bounds and key
 * columns by name), whatever their order: 16 hex digits of SHA-1, collisions are negligible.
 */
export function groupsHash(groupValues: ReadonlyArray<Record<string, unknown>>): string {
  const sorted = groupValues.map((v) => JSON.stringify(v)).sort();
  return createHash('sha1').update(JSON.stringify(sorted)).digest('hex').slice(0, 16);
}

export const partitionKey = (topic: string, partition: number): string => `${topic}:${partition}`;

export async function continuePoint(
  old: CheckpointStore,
  /** Did the old checkpoint's marker make this planned batch visible? */
  visible: (task: string, entry: OffsetLogEntry) => Promise<boolean>,
): Promise<ContinuePoint> {
  const offsets = new Map<string, number>();
  const shuffle = new Map<number, number>();
  const replanned: string[] = [];
  for (const task of await old.tasks()) {
    const source = task.startsWith('src.');
    if (!source && !task.startsWith('shuffle.')) continue;
    const { offsets: wal, commit } = await old.latest(task);
    if (!wal) continue;
    const { topic, partition, start, end } = wal.range;
    const done = (commit && commit.batchId >= wal.batchId) || (await visible(task, wal));
    if (!source) {
      shuffle.set(partition, done ? end : start);
      continue;
    }
    if (!done) replanned.push(task);
    offsets.set(partitionKey(topic, partition), done ? end : start);
  }
  return { offsets, replanned, shuffle };
}

/**
 * Folds the origins of the old shuffle backlog into the continue point. An origin at or past its
 * partition's continue offset is read anyway; one below it moves the start back to it and is
 * listed in the partition's replay set. A record with several groups (sliding windows) of which
 * fewer than all are in the backlog was partly aggregated: its replay keeps only the backlog's
 * groups (PartialReplay). `partialRecords` counts those records.
 */
export function withBacklog(
  offsets: Map<string, number>,
  origins: Iterable<RowOrigin>,
): { offsets: Map<string, number>; replay: Map<string, ReplaySet>; partialRecords: number } {
  interface Groups {
    n: number;
    h: string;
    keys: Set<string>;
  }
  const pending = new Map<string, Map<number, Groups | undefined>>();
  for (const o of origins) {
    const key = partitionKey(o.topic, o.partition);
    const end = offsets.get(key);
    if (end === undefined || o.offset >= end) continue;
    let set = pending.get(key);
    if (!set) pending.set(key, (set = new Map()));
    const seen = set.get(o.offset);
    if (!o.groups) set.set(o.offset, undefined);
    else if (seen) seen.keys.add(o.groups.key);
    else if (!set.has(o.offset))
      set.set(o.offset, { n: o.groups.n, h: o.groups.h, keys: new Set([o.groups.key]) });
  }
  const out = new Map(offsets);
  const replay = new Map<string, ReplaySet>();
  let count = 0;
  let partialKeys = 0;
  let partialRecords = 0;
  for (const [key, set] of pending) {
    const partial: Record<string, PartialReplay> = {};
    for (const [offset, groups] of set) {
      if (!groups || groups.keys.size >= groups.n) continue;
      partial[String(offset)] = { h: groups.h, keys: [...groups.keys].sort() };
      partialRecords++;
      partialKeys += groups.keys.size;
    }
    if (partialKeys > MAX_PARTIAL_GROUPS)
      throw new Error(
        `the old version's shuffle backlog holds too many partly aggregated records to continue exactly (more than ${MAX_PARTIAL_GROUPS} groups); upgrade with startingOffsets earliest instead`,
      );
    const sorted = [...set.keys()].sort((a, b) => a - b);
    const ranges: Array<[number, number]> = [];
    for (const offset of sorted) {
      const last = ranges.at(-1);
      if (last && last[1] === offset) last[1] = offset + 1;
      else ranges.push([offset, offset + 1]);
    }
    count += ranges.length;
    if (count > MAX_REPLAY_RANGES)
      throw new Error(
        `the old version's shuffle backlog is too fragmented to continue exactly (more than ${MAX_REPLAY_RANGES} offset ranges); upgrade with startingOffsets earliest instead`,
      );
    replay.set(key, {
      until: offsets.get(key)!,
      ranges,
      ...(Object.keys(partial).length > 0 ? { partial } : {}),
    });
    out.set(key, sorted[0]!);
  }
  return { offsets: out, replay, partialRecords };
}

/** The groups still to aggregate of a replayed record (undefined: the whole record). */
export function partialReplay(set: ReplaySet | undefined, offset: number): PartialReplay | undefined {
  if (!set?.partial || offset >= set.until) return undefined;
  return set.partial[String(offset)];
}

/** Should the new version process the record at `offset`? (false: the old version did). */
export function replays(set: ReplaySet | undefined, offset: number): boolean {
  if (!set || offset >= set.until) return true;
  // Binary search: the ranges are ascending and disjoint.
  let lo = 0;
  let hi = set.ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [start, end] = set.ranges[mid]!;
    if (offset < start) hi = mid - 1;
    else if (offset >= end) lo = mid + 1;
    else return true;
  }
  return false;
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
