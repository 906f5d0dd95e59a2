// The pure decisions of one trigger, kept apart from the I/O shell (query-runner.ts, and the
// query test harness): which control commands change what, which tasks the assignment adds or
// drops, and which batch each owned task runs now (a replay first; else a new range from the
// offsets, the rate limit and the watermark). Nothing here reads a clock, a broker or a file.
import type { ControlCommand } from '@sluice/contracts';
import { instanceReadShare, shareBatchBound } from '@sluice/scaling';
import type { OffsetLogEntry } from '../checkpoint/checkpoint-store';
import { planBatch, type DataLossEvent, type PartitionPosition } from '../offsets/offset-planner';
import type { Stage } from './task-runtime';

export interface Bounds {
  earliest: number;
  latest: number;
}

/** What the planner needs of a task's live state (task-runtime.TaskRuntime has all of it). */
export interface PlannerTask {
  task: string;
  stage: Stage;
  topic: string;
  partition: number;
  nextBatchId: number;
  nextStart: number | undefined;
  replay: OffsetLogEntry | undefined;
  /** The watermark the next batch would run with (shuffle tasks with a watermark), else undefined. */
  watermarkMs: number | undefined;
  lastBatchWatermarkMs: number;
}

export interface TriggerPlanInput {
  tasks: Iterable<PlannerTask>;
  /** Per topic, per partition: the log's bounds now. */
  bounds: ReadonlyMap<string, ReadonlyMap<number, Bounds>>;
  sourcesPaused: boolean;
  rateLimit: number | null;
  /** Partitions of all source topics (the even share of the rate limit, when backlogs are unknown). */
  totalSourcePartitions: number;
  /** The source topics (whose partitions in `bounds` make up the query's backlog). */
  sourceTopics?: readonly string[];
  /**
   * The source group's committed offsets, keyed `topic:partition` (null: never committed), read
   * up to about a trigger ago; undefined = unknown. With them the rate limit is shared across
   * instances by backlog (sourceBacklog), else by partition count.
   */
  committed?: ReadonlyMap<string, number | null>;
  minOffsetsPerTrigger: number | null;
  maxTriggerDelayMs: number;
  failOnDataLoss: boolean;
  /** Where a source partition with no history starts (starting offsets or a continue point). */
  firstOffset(topic: string, partition: number, bounds: Bounds): number;
  maxShuffleRecordsPerBatch: number;
  /**
   * At most this many records per task and trigger (libs/scaling batch-bound.ts: keeps a catch-up
   * trigger short enough that a rebalance does not keep throwing it away); null = no bound. Source
   * tasks share it as a pool (shareBatchBound); a shuffle task is held to it alone.
   */
  maxRecordsPerTask: number | null;
  queryVersion: number;
  nowMs: number;
  lastTriggerMs: number;
}

export interface TriggerPlan {
  /** Batches to run now, one per task at most. */
  runs: Array<{ task: string; entry: OffsetLogEntry }>;
  /** New `nextStart` of tasks (first offsets resolved, lost offsets skipped). */
  nextStarts: Map<string, number>;
  lastTriggerMs: number;
  dataLoss: DataLossEvent[];
}

function entryOf(
  t: PlannerTask,
  r: { topic: string; partition: number; start: number; end: number },
  watermarkMs: number,
  input: TriggerPlanInput,
): OffsetLogEntry {
  return {
    batchId: t.nextBatchId,
    range: { topic: r.topic, partition: r.partition, start: r.start, end: r.end },
    watermarkMs,
    batchTimestampMs: input.nowMs,
    planVersion: input.queryVersion,
  };
}

/**
 * Records behind on this instance's source partitions and on all of the query's. Owned partitions
 * count from where their next batch starts (fresh); the others from the group's committed offsets,
 * which may be up to a cache period old. Committed offsets only grow, so a stale one overstates
 * another instance's backlog: each instance's share comes out at most its true proportion, and the
 * shares still sum to at most the cap. Total unknown when another instance's non-empty partition has
 * no committed offset yet (its backlog depends on starting offsets this instance does not resolve).
 */
export function sourceBacklog(
  positions: readonly PartitionPosition[],
  input: Pick<TriggerPlanInput, 'bounds' | 'sourceTopics' | 'committed'>,
): { owned: number; total: number | undefined } {
  const owned = positions.reduce((n, p) => n + Math.max(0, p.latest - p.start), 0);
  const { committed, sourceTopics } = input;
  if (!committed || !sourceTopics) return { owned, total: undefined };
  const mine = new Set(positions.map((p) => `${p.topic}:${p.partition}`));
  let total = owned;
  for (const topic of sourceTopics) {
    const partitions = input.bounds.get(topic);
    if (!partitions) return { owned, total: undefined };
    for (const [partition, b] of partitions) {
      const key = `${topic}:${partition}`;
      if (mine.has(key)) continue;
      const offset = committed.get(key);
      // Never committed: an empty log is 0 behind wherever the query starts; otherwise unknown.
      if (offset == null && b.latest > b.earliest) return { owned, total: undefined };
      if (offset == null) continue;
      total += Math.max(0, b.latest - Math.max(offset, b.earliest));
    }
  }
  return { owned, total };
}

/** Plans (or re-plans) every task's next batch. Only tasks with work are returned. */
export function planTrigger(input: TriggerPlanInput): TriggerPlan {
  const runs: TriggerPlan['runs'] = [];
  const nextStarts = new Map<string, number>();
  const positions: PartitionPosition[] = [];
  const fresh = new Map<string, PlannerTask>();
  // Source records the replays read: they count against this trigger's rate limit, and their
  // partitions (from where the replay starts) toward this instance's share of it.
  let replayed = 0;
  const replaying: PartitionPosition[] = [];
  for (const t of input.tasks) {
    if (t.replay) {
      runs.push({ task: t.task, entry: t.replay });
      const b = input.bounds.get(t.topic)?.get(t.partition);
      if (t.stage === 'source' && b) {
        const { start, end } = t.replay.range;
        replayed += Math.max(0, end - start);
        replaying.push({
          topic: t.topic,
          partition: t.partition,
          start,
          earliest: b.earliest,
          latest: b.latest,
        });
      }
      continue;
    }
    const b = input.bounds.get(t.topic)?.get(t.partition);
    if (!b) continue;
    // A paused source stage plans nothing new (an already planned batch above still runs).
    if (t.stage === 'source' && input.sourcesPaused) continue;
    let start = t.nextStart;
    if (start === undefined) {
      start = t.stage === 'source' ? input.firstOffset(t.topic, t.partition, b) : b.earliest;
      nextStarts.set(t.task, start);
    }
    const pos = { topic: t.topic, partition: t.partition, start, earliest: b.earliest, latest: b.latest };
    if (t.stage === 'source') {
      positions.push(pos);
      fresh.set(`${t.topic}:${t.partition}`, t);
    } else {
      const cap = Math.min(input.maxShuffleRecordsPerBatch, input.maxRecordsPerTask ?? Infinity);
      const end = Math.min(b.latest, start + cap);
      const wm = t.watermarkMs ?? 0;
      // A no-data batch is worth running when the watermark moved: it evicts (and, in append
      // mode, emits) state that just expired, as Spark's no-data micro-batches do.
      if (end > start || wm > t.lastBatchWatermarkMs)
        runs.push({ task: t.task, entry: entryOf(t, { ...pos, end }, wm, input) });
    }
  }
  let lastTriggerMs = input.lastTriggerMs;
  let dataLoss: DataLossEvent[] = [];
  const owned = [...positions, ...replaying];
  const backlog = positions.length > 0 && input.rateLimit != null ? sourceBacklog(owned, input) : undefined;
  const share =
    positions.length > 0
      ? instanceReadShare({
          limit: input.rateLimit,
          ownedPartitions: owned.length,
          totalPartitions: input.totalSourcePartitions,
          ownedBacklog: backlog?.owned,
          totalBacklog: backlog?.total,
        })
      : null;
  // New ranges get what the replays leave of the share: a trigger that replays a batch planned
  // under the cap and plans others beside it still reads at most the cap (Spark replays a batch
  // alone, so its triggers never sum the two). Nothing left: only the replays run this trigger.
  const left = share == null ? null : share - replayed;
  if (positions.length > 0 && (left == null || left > 0)) {
    const plan = planBatch({
      positions,
      limits: {
        maxOffsetsPerTrigger: left,
        minOffsetsPerTrigger: input.minOffsetsPerTrigger,
        maxTriggerDelayMs: input.maxTriggerDelayMs,
      },
      failOnDataLoss: input.failOnDataLoss,
      nowMs: input.nowMs,
      lastTriggerMs: input.lastTriggerMs,
    });
    dataLoss = plan.dataLoss;
    if (plan.kind === 'run') {
      lastTriggerMs = input.nowMs;
      // Bounded after planBatch (which spreads the rate limit over partitions): either only lowers.
      // The source tasks share the bound as a pool (a hot partition may use what quiet ones leave).
      const ranges = plan.ranges.filter((r) => fresh.has(`${r.topic}:${r.partition}`));
      const sizes = shareBatchBound(
        ranges.map((r) => Math.max(0, r.end - r.start)),
        input.maxRecordsPerTask ?? Infinity,
      );
      for (const [k, r] of ranges.entries()) {
        const t = fresh.get(`${r.topic}:${r.partition}`);
        if (!t) continue;
        const end = Math.min(r.end, r.start + (sizes[k] as number));
        if (end > r.start) runs.push({ task: t.task, entry: entryOf(t, { ...r, end }, 0, input) });
        else if (r.start !== (nextStarts.get(t.task) ?? t.nextStart)) nextStarts.set(t.task, r.start); // skipped lost offsets
      }
    }
  }
  return { runs, nextStarts, lastTriggerMs, dataLoss };
}

/** Which owned tasks the assignment drops, and which assigned tasks are new. */
export function diffAssignment<W>(
  owned: Iterable<string>,
  wanted: ReadonlyMap<string, W>,
): { drop: string[]; add: Array<[string, W]> } {
  const ownedSet = new Set(owned);
  return {
    drop: [...ownedSet].filter((id) => !wanted.has(id)),
    add: [...wanted].filter(([id]) => !ownedSet.has(id)),
  };
}

export interface CommandState {
  rateLimit: number | null;
  sourcesPaused: boolean;
}

export interface CommandOutcome extends CommandState {
  /** A drain was asked for: stop after this trigger. */
  drain: boolean;
  acked: string[];
  /** One line per applied command, for the log. */
  notes: Array<{ msg: string; commandId: string }>;
}

/** Applies control commands in order (each acknowledged in the next progress event). */
export function applyCommands(state: CommandState, commands: ControlCommand[]): CommandOutcome {
  const out: CommandOutcome = { ...state, drain: false, acked: [], notes: [] };
  for (const c of commands) {
    if (c.type === 'setRateLimit') {
      out.rateLimit = c.maxOffsetsPerTrigger;
      out.notes.push({
        msg: `rate limit set to ${c.maxOffsetsPerTrigger ?? 'unlimited'}`,
        commandId: c.commandId,
      });
    } else if (c.type === 'pauseSources' || c.type === 'resumeSources') {
      out.sourcesPaused = c.type === 'pauseSources';
      out.notes.push({
        msg: out.sourcesPaused ? 'source stage paused' : 'source stage resumed',
        commandId: c.commandId,
      });
    } else {
      out.drain = true;
      out.notes.push({ msg: 'drain requested', commandId: c.commandId });
    }
    out.acked.push(c.commandId);
  }
  return out;
}
