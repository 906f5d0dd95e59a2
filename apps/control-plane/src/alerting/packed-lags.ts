// The lag readings of one tick as typed arrays (PackedLags, evaluation-messages.ts): packed on the
// main thread, their buffers transferred to the evaluation's thread and unpacked there, so 16,000
// readings a tick cross threads without a structured clone of 16,000 objects.
import type { PartitionObservation } from '@sluice/alerting';
import type { LagReading } from '../lag/lag.service';
import { PACKED_FIELDS, type PackedLags } from './evaluation-messages';

/** One partition's reading: the history's observation and the snapshot's lag in one object. */
export interface PartitionReading extends PartitionObservation {
  readonly recordsBehind: number;
}

/** The lag readings as typed arrays (see PackedLags): transferred to the thread, not cloned. */
export function packLags(lags: ReadonlyMap<string, LagReading>): PackedLags {
  let total = 0;
  for (const l of lags.values()) total += l.partitions.length;
  const queryIds: string[] = [];
  const readAtMs = new Float64Array(lags.size);
  const start = new Int32Array(lags.size + 1);
  const rows = new Float64Array(total * PACKED_FIELDS);
  const topics: string[] = [];
  const topicIndex = new Map<string, number>();
  let r = 0;
  for (const [id, l] of lags) {
    start[queryIds.length] = r;
    readAtMs[queryIds.length] = l.readAtMs;
    queryIds.push(id);
    for (const p of l.partitions) {
      let ti = topicIndex.get(p.topic);
      if (ti === undefined) {
        ti = topics.length;
        topics.push(p.topic);
        topicIndex.set(p.topic, ti);
      }
      const o = r * PACKED_FIELDS;
      rows[o] = ti;
      rows[o + 1] = p.partition;
      rows[o + 2] = p.committedOffset ?? NaN;
      rows[o + 3] = p.endOffset;
      rows[o + 4] = p.recordsBehind;
      rows[o + 5] = p.secondsBehind ?? NaN;
      r++;
    }
  }
  start[queryIds.length] = r;
  return { queryIds, readAtMs, start, rows, topics };
}

/** One query's last reading as the evaluation's thread keeps it. */
export interface QueryLag {
  readAtMs: number;
  partitions: PartitionReading[];
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The packed readings as one object per partition (the history and the rules read the same). */
export function unpackLags(l: PackedLags): Map<string, QueryLag> {
  const out = new Map<string, QueryLag>();
  unpackLagsInto(l, out);
  return out;
}

/**
 * The packed readings written into `into` (query id → its last reading). A query's partition
 * objects are reused when it has as many partitions as before: the thread gets a reading for
 * every query every lag poll (16,000 partitions at 1,000 × 16), and building them anew each tick
 * was a good part of what its garbage collector had to do. Nothing keeps a reading's objects
 * beyond the evaluation that uses them (the history copies the numbers it keeps).
 */
export function unpackLagsInto(l: PackedLags, into: Map<string, QueryLag>): void {
  const rows = l.rows;
  for (let i = 0; i < l.queryIds.length; i++) {
    const id = l.queryIds[i]!;
    const from = l.start[i]!;
    const count = l.start[i + 1]! - from;
    const previous = into.get(id);
    const reuse = previous !== undefined && previous.partitions.length === count;
    const partitions: PartitionReading[] = reuse ? previous.partitions : new Array<PartitionReading>(count);
    for (let k = 0; k < count; k++) {
      const o = (from + k) * PACKED_FIELDS;
      const committed = rows[o + 2]!;
      const seconds = rows[o + 5]!;
      const topic = l.topics[rows[o]!]!;
      const committedOffset = Number.isNaN(committed) ? null : committed;
      const secondsBehind = Number.isNaN(seconds) ? null : seconds;
      if (!reuse) {
        partitions[k] = {
          topic,
          partition: rows[o + 1]!,
          committedOffset,
          endOffset: rows[o + 3]!,
          recordsBehind: rows[o + 4]!,
          secondsBehind,
        };
        continue;
      }
      const p = partitions[k] as Mutable<PartitionReading>;
      p.topic = topic;
      p.partition = rows[o + 1]!;
      p.committedOffset = committedOffset;
      p.endOffset = rows[o + 3]!;
      p.recordsBehind = rows[o + 4]!;
      p.secondsBehind = secondsBehind;
    }
    if (reuse) previous.readAtMs = l.readAtMs[i]!;
    else into.set(id, { readAtMs: l.readAtMs[i]!, partitions });
  }
}
