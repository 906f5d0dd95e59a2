// Row-level stream–stream join (Spark's StreamingSymmetricHashJoinExec, one shuffle partition's
// share): each side's rows are kept in the state store by join key; a new row is joined with the
// other side's rows under its key, then kept for the other side's future rows until the
// watermark passes it. Pure over a small store interface: the engine passes its state store.
import type { Row } from '../types';
import { joinedColumn, type StreamJoinOperator } from '../plan/join-operators';
import { compileExpr, type Evaluator } from './evaluate';

export type JoinSideTag = 'l' | 'r';

/** The part of the engine's state store the join uses. */
export interface JoinStore {
  get(key: string): unknown;
  put(key: string, value: never): void;
  remove(key: string): boolean;
  entries(): Iterable<[string, unknown]>;
}

/** A kept row: [row, event time, matched (0/1)]. */
type Kept = [Row, number, 0 | 1];

export interface JoinInput {
  side: JoinSideTag;
  /** The row as prepare() returned it. */
  row: Row;
}

export interface JoinBatchResult {
  /** Joined rows (before WHERE and the projection), and left-outer rows with NULL right columns. */
  rows: Row[];
  numRowsDroppedByWatermark: number;
  numRowsRemoved: number;
  /** Highest event time per side in this batch (the watermark of each side follows it). */
  maxEventTimeMs: Partial<Record<JoinSideTag, number>>;
}

export interface StreamJoin {
  left: string;
  right: string;
  /** Left outer join: unmatched left rows are emitted (so even NULL-key left rows are kept). */
  outer: boolean;
  /** Shuffle key of rows whose join key is NULL. */
  nullKey: string;
  /** The side a source topic feeds. */
  sideOf(topic: string): JoinSideTag;
  /** State keys of the join's rows start with "l:" or "r:"; others are the engine's own. */
  isRowKey(key: string): boolean;
  /** A decoded row of a side as it travels and is kept: right columns get the right's prefix. */
  prepare(side: JoinSideTag, row: Row): Row;
  /** The join key of a prepared row; undefined when part of it is NULL (it matches nothing). */
  key(side: JoinSideTag, row: Row): string | undefined;
  eventTimeMs(side: JoinSideTag, row: Row): number | undefined;
  /**
   * Joins one batch's rows (in order) with the state and with each other, then evicts what the
   * watermark (decided before the batch; 0 = none yet) has passed.
   */
  processBatch(store: JoinStore, inputs: readonly JoinInput[], watermarkMs: number): JoinBatchResult;
}

const NULL_KEY = '\u0000null';

export function streamJoin(op: StreamJoinOperator, topics: { l: string; r: string }): StreamJoin {
  const prefix = joinedColumn(op.right, '');
  const keys: Record<JoinSideTag, Evaluator[]> = {
    l: op.leftKeys.map((e) => compileExpr(e)),
    r: op.rightKeys.map((e) => compileExpr(e)),
  };
  const timeColumn: Record<JoinSideTag, string> = { l: op.timeRange.leftColumn, r: op.timeRange.rightColumn };
  const residual = op.residual ? compileExpr(op.residual) : undefined;
  const { lowerMs, upperMs } = op.timeRange;
  const outer = op.joinType === 'leftOuter';

  const key = (side: JoinSideTag, row: Row): string | undefined => {
    const values = keys[side].map((k) => k(row));
    return values.some((v) => v === null || v === undefined) ? undefined : JSON.stringify(values);
  };
  const eventTimeMs = (side: JoinSideTag, row: Row): number | undefined => {
    const t = row[timeColumn[side]];
    return typeof t === 'number' ? t : undefined;
  };
  const stateKey = (side: JoinSideTag, k: string | undefined): string => `${side}:${k ?? NULL_KEY}`;
  /** Whether no future row of the other side can match a kept row at `t` (the watermark passed it). */
  const expired = (side: JoinSideTag, t: number, watermarkMs: number): boolean =>
    watermarkMs > 0 && (side === 'l' ? t + upperMs < watermarkMs : t - lowerMs < watermarkMs);

  const isRowKey = (k: string): boolean => k.startsWith('l:') || k.startsWith('r:');
  return {
    left: op.left,
    right: op.right,
    outer,
    nullKey: NULL_KEY,
    sideOf(topic) {
      if (topic === topics.l) return 'l';
      if (topic === topics.r) return 'r';
      throw new Error(`topic "${topic}" feeds neither side of the join`);
    },
    isRowKey,
    prepare(side, row) {
      if (side === 'l') return row;
      const out: Row = {};
      for (const [name, value] of Object.entries(row)) out[prefix + name] = value;
      return out;
    },
    key,
    eventTimeMs,
    processBatch(store, inputs, watermarkMs) {
      const result: JoinBatchResult = {
        rows: [],
        numRowsDroppedByWatermark: 0,
        numRowsRemoved: 0,
        maxEventTimeMs: {},
      };
      const emitUnmatched = (row: Row): void => {
        result.rows.push(row); // right columns absent: NULL
      };
      for (const { side, row } of inputs) {
        const t = eventTimeMs(side, row);
        if (t === undefined) {
          // No event time: it could never be evicted (Spark drops rows whose watermark column is NULL).
          result.numRowsDroppedByWatermark++;
          continue;
        }
        const prev = result.maxEventTimeMs[side];
        if (prev === undefined || t > prev) result.maxEventTimeMs[side] = t;
        if (watermarkMs > 0 && t < watermarkMs) {
          result.numRowsDroppedByWatermark++;
          continue;
        }
        const k = key(side, row);
        // (A row shuffled under nullKey has a NULL key part: key() is undefined for it too.)
        let matched = false;
        if (k !== undefined) {
          const other: JoinSideTag = side === 'l' ? 'r' : 'l';
          const otherKey = stateKey(other, k);
          const kept = store.get(otherKey) as Kept[] | undefined;
          let changed = false;
          for (const entry of kept ?? []) {
            const joined = side === 'l' ? { ...row, ...entry[0] } : { ...entry[0], ...row };
            if (residual && residual(joined) !== true) continue;
            result.rows.push(joined);
            matched = true;
            if (entry[2] === 0) {
              entry[2] = 1;
              changed = true;
            }
          }
          if (changed && kept) store.put(otherKey, kept as never);
        }
        if (expired(side, t, watermarkMs)) {
          // Nothing to come can match it: not kept (an outer left row that never matched is final).
          if (outer && side === 'l' && !matched) emitUnmatched(row);
          continue;
        }
        // Only left rows of an outer join need keeping without a key (to be emitted at eviction).
        if (k === undefined && !(outer && side === 'l')) continue;
        const ownKey = stateKey(side, k);
        const list = (store.get(ownKey) as Kept[] | undefined) ?? [];
        list.push([row, t, matched ? 1 : 0]);
        store.put(ownKey, list as never);
      }
      if (watermarkMs > 0) {
        const updates: Array<[string, Kept[]]> = [];
        for (const [k, value] of store.entries()) {
          if (!isRowKey(k)) continue;
          const side = k[0] as JoinSideTag;
          const list = value as Kept[];
          const keep = list.filter((e) => !expired(side, e[1], watermarkMs));
          if (keep.length === list.length) continue;
          for (const e of list)
            if (expired(side, e[1], watermarkMs) && outer && side === 'l' && e[2] === 0) emitUnmatched(e[0]);
          result.numRowsRemoved += list.length - keep.length;
          updates.push([k, keep]);
        }
        for (const [k, keep] of updates) {
          if (keep.length === 0) store.remove(k);
          else store.put(k, keep as never);
        }
      }
      return result;
    },
  };
}
