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

/** The packed readings as one object per partition (the history and the rules read the same). */
export function unpackLags(l: PackedLags): Map<string, { readAtMs: number; partitions: PartitionReading[] }> {
  const out = new Map<string, { readAtMs: number; partitions: PartitionReading[] }>();
  const rows = l.rows;
  for (let i = 0; i < l.queryIds.length; i++) {
    const partitions: PartitionReading[] = [];
    for (let r = l.start[i]!; r < l.start[i + 1]!; r++) {
      const o = r * PACKED_FIELDS;
      const committed = rows[o + 2]!;
      const seconds = rows[o + 5]!;
      partitions.push({
        topic: l.topics[rows[o]!]!,
        partition: rows[o + 1]!,
        committedOffset: Number.isNaN(committed) ? null : committed,
        endOffset: rows[o + 3]!,
        recordsBehind: rows[o + 4]!,
        secondsBehind: Number.isNaN(seconds) ? null : seconds,
      });
    }
    out.set(l.queryIds[i]!, { readAtMs: l.readAtMs[i]!, partitions });
  }
  return out;
}
