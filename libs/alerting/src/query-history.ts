// What the evaluator remembers between evaluations of one query: Burrow's window of offset
// commits per partition and the lag samples the SLO burn rates are computed from. Bounded.
//
// Commits: Sluice engines commit their group offsets once per micro-batch and publish one
// progress event per batch (or every 10 s when idle), so a commit is observed when the query's
// last progress time advanced since the previous observation, at that progress time, with the
// committed offset and lag seen now. A committed offset that moved without a progress event is a
// commit too (an external reset: Burrow's REWIND). No progress and no movement = no commit, which
// is what lets Burrow's STOP rule see a stopped consumer; progress without movement while there
// is lag is Burrow's STALL.
//
// Lag samples: only whether a sample is above an objective matters to time-above-objective, so a
// sample is kept when it crosses one of the objectives relative to the last one kept, and
// otherwise at most every `heartbeatMs` (well under the 5-minute staleness, so coverage holds).
// That is exact for the bad fraction and keeps 6 hours in a few hundred samples.
import type { OffsetCommit } from './burrow-rules';
import type { PartitionInput } from './partition-status';
import type { LagSample } from './time-above-objective';

export interface PartitionObservation {
  readonly topic: string;
  readonly partition: number;
  /** null while the group has not committed on this partition. */
  readonly committedOffset: number | null;
  readonly endOffset: number;
  readonly secondsBehind: number | null;
}

export interface HistoryOptions {
  /** Commits kept per partition (the largest Burrow window of the rules). */
  readonly windowSize: number;
  /** Oldest lag sample kept (the longest SLO window). */
  readonly sampleRetentionMs: number;
  /** Lag objectives (seconds) of the SLO rules: crossings are always kept. */
  readonly objectives: readonly number[];
  readonly heartbeatMs?: number;
  /** Log-end offsets kept per partition for Burrow's STOP guard. */
  readonly recentEnds?: number;
}

/** Burrow's input for one partition as the history keeps it: commitWindows hands these out as
 * they are, so a tick builds no object per partition for them. */
interface CommitWindow extends PartitionInput {
  readonly topic: string;
  readonly partition: number;
  readonly commits: OffsetCommit[];
  logEndOffset: number;
  /** Recent log-end offsets, oldest first (Burrow's STOP guard). */
  readonly recentLogEndOffsets: number[];
}

interface PartitionHistory {
  readonly window: CommitWindow;
  lastOffset: number | null;
}

interface PartitionHistoryV1 {
  readonly topic: string;
  readonly partition: number;
  readonly commits: readonly OffsetCommit[];
  readonly lastOffset: number | null;
  readonly ends: readonly number[];
  readonly endOffset: number;
}

const keyOf = (p: { readonly topic: string; readonly partition: number }) => `${p.topic}\u0000${p.partition}`;

/**
 * What a QueryHistory knows, as JSON: the leader stores it so that a new leader continues from it
 * instead of starting Burrow's windows and the SLO samples from nothing. Numbers live in flat
 * arrays (version 2: one object per commit and per sample had made the keys most of the text), and
 * since version 3 each commit's offset and time and each sample's time are written as the
 * difference from the one before (the first as it is): the leader serialises a sixth of its
 * histories every evaluation, and epoch milliseconds (13 digits, beyond small integers, so
 * JSON.stringify takes its slow path for each) were most of what was left (1,000 × 16: ~850 → ~600
 * kB a tick, serialisation ~40 % faster). Offsets and times are whole numbers, so the sums that
 * decode them are exact.
 */
export interface HistoryState {
  readonly v: 3;
  readonly lastProgressMs: number | null;
  /** [topic, partition, lastOffset, endOffset, recent log-end offsets, commits as offset, lag,
   * timestampMs triples (offset and time relative to the previous commit but the first)] per
   * partition. */
  readonly partitions: ReadonlyArray<
    readonly [string, number, number | null, number, readonly number[], readonly number[]]
  >;
  /** timestampMs (relative to the previous sample but the first), lagSeconds pairs. */
  readonly samples: readonly number[];
}

/** The second stored form: HistoryState with every number as it is. Still read, no longer written. */
interface HistoryStateV2 extends Omit<HistoryState, 'v'> {
  readonly v: 2;
}

/** The first stored form (one object per commit and per sample): still read, no longer written. */
interface HistoryStateV1 {
  readonly v: 1;
  readonly lastProgressMs: number | null;
  readonly partitions: readonly PartitionHistoryV1[];
  readonly samples: readonly LagSample[];
}

const isNumber = (x: unknown): x is number => typeof x === 'number';

export class QueryHistory {
  private readonly partitions = new Map<string, PartitionHistory>();
  /** The partitions in the map's order (what commitWindows returns); rebuilt when the set changes. */
  private windows: CommitWindow[] = [];
  /** The partitions in the order of the last observation: the next one, in the same order as a
   * rule, finds each partition by position instead of building a key string per partition. */
  private order: PartitionHistory[] = [];
  private samples: LagSample[] = [];
  private lastProgressMs: number | null = null;

  constructor(private options: HistoryOptions) {}

  toState(): HistoryState {
    const partitions: Array<[string, number, number | null, number, number[], number[]]> = [];
    for (const { window: w, lastOffset } of this.partitions.values()) {
      const commits: number[] = [];
      let offset = 0;
      let at = 0;
      for (const c of w.commits) {
        commits.push(c.offset - offset, c.lag, c.timestampMs - at);
        offset = c.offset;
        at = c.timestampMs;
      }
      partitions.push([w.topic, w.partition, lastOffset, w.logEndOffset, w.recentLogEndOffsets, commits]);
    }
    const samples: number[] = [];
    let at = 0;
    for (const s of this.samples) {
      samples.push(s.timestampMs - at, s.lagSeconds);
      at = s.timestampMs;
    }
    return { v: 3, lastProgressMs: this.lastProgressMs, partitions, samples };
  }

  /** A history continued from a stored state (version 1, 2 or 3); a state this version cannot
   * read starts empty. */
  static fromState(options: HistoryOptions, state: unknown): QueryHistory {
    const h = new QueryHistory(options);
    const s = state as Partial<HistoryState> | Partial<HistoryStateV2> | Partial<HistoryStateV1> | null;
    if (!s || !Array.isArray(s.partitions) || !Array.isArray(s.samples)) return h;
    if (s.v === 1) h.restoreV1(s as HistoryStateV1);
    else if (s.v === 2) h.restoreFlat(s as HistoryStateV2, false);
    else if (s.v === 3) h.restoreFlat(s as HistoryState, true);
    h.windows = [...h.partitions.values()].map((p) => p.window);
    return h;
  }

  private restoreV1(s: HistoryStateV1): void {
    this.lastProgressMs = typeof s.lastProgressMs === 'number' ? s.lastProgressMs : null;
    for (const p of s.partitions) {
      this.partitions.set(keyOf(p), {
        window: {
          topic: p.topic,
          partition: p.partition,
          commits: p.commits.slice(-this.options.windowSize),
          logEndOffset: p.endOffset,
          recentLogEndOffsets: [...p.ends],
        },
        lastOffset: p.lastOffset,
      });
    }
    this.samples = [...s.samples];
  }

  /** Versions 2 and 3: flat arrays, in version 3 with offsets and times relative to the previous. */
  private restoreFlat(s: HistoryState | HistoryStateV2, relative: boolean): void {
    this.lastProgressMs = typeof s.lastProgressMs === 'number' ? s.lastProgressMs : null;
    for (const [topic, partition, lastOffset, endOffset, ends, flat] of s.partitions) {
      const commits: OffsetCommit[] = [];
      let offset = 0;
      let at = 0;
      for (let i = 0; i + 2 < flat.length; i += 3) {
        offset = relative ? offset + flat[i]! : flat[i]!;
        at = relative ? at + flat[i + 2]! : flat[i + 2]!;
        commits.push({ offset, lag: flat[i + 1]!, timestampMs: at });
      }
      this.partitions.set(keyOf({ topic, partition }), {
        window: {
          topic,
          partition,
          commits: commits.slice(-this.options.windowSize),
          logEndOffset: endOffset,
          recentLogEndOffsets: ends.filter(isNumber),
        },
        lastOffset: isNumber(lastOffset) ? lastOffset : null,
      });
    }
    const samples: LagSample[] = [];
    let at = 0;
    for (let i = 0; i + 1 < s.samples.length; i += 2) {
      at = relative ? at + s.samples[i]! : s.samples[i]!;
      samples.push({ timestampMs: at, lagSeconds: s.samples[i + 1]! });
    }
    this.samples = samples;
  }

  /** Rules changed: new bounds apply from the next observation. */
  reconfigure(options: HistoryOptions): void {
    this.options = options;
  }

  observe(nowMs: number, lastProgressAtMs: number | null, partitions: readonly PartitionObservation[]): void {
    const progressed =
      lastProgressAtMs !== null && (this.lastProgressMs === null || lastProgressAtMs > this.lastProgressMs);
    // Partitions that went are looked for only when the set may have changed (one was new, or the
    // counts differ): a Set of 16 keys per query per tick otherwise, for nothing.
    let added = false;
    let reordered = partitions.length !== this.order.length;
    const recentEnds = this.options.recentEnds ?? 3;
    for (let i = 0; i < partitions.length; i++) {
      const p = partitions[i]!;
      let h = this.order[i];
      if (h === undefined || h.window.topic !== p.topic || h.window.partition !== p.partition) {
        reordered = true;
        const key = keyOf(p);
        h = this.partitions.get(key);
        if (!h) {
          added = true;
          h = {
            window: {
              topic: p.topic,
              partition: p.partition,
              commits: [],
              logEndOffset: p.endOffset,
              recentLogEndOffsets: [],
            },
            lastOffset: null,
          };
          this.partitions.set(key, h);
        }
      }
      const w = h.window;
      w.logEndOffset = p.endOffset;
      const ends = w.recentLogEndOffsets;
      ends.push(p.endOffset);
      if (ends.length > recentEnds) ends.shift();
      if (p.committedOffset === null) continue;
      const moved = h.lastOffset !== null && p.committedOffset !== h.lastOffset;
      if (progressed || moved || h.lastOffset === null) {
        const at = progressed && !moved ? lastProgressAtMs : nowMs;
        const commits = w.commits;
        commits.push({ offset: p.committedOffset, lag: p.endOffset - p.committedOffset, timestampMs: at });
        if (commits.length === this.options.windowSize + 1) commits.shift();
        else if (commits.length > this.options.windowSize)
          commits.splice(0, commits.length - this.options.windowSize);
      }
      h.lastOffset = p.committedOffset;
    }
    if (added || this.partitions.size !== partitions.length) {
      const seen = new Set(partitions.map(keyOf));
      for (const key of this.partitions.keys()) if (!seen.has(key)) this.partitions.delete(key);
      this.windows = [...this.partitions.values()].map((h) => h.window);
    }
    if (reordered) this.order = partitions.map((p) => this.partitions.get(keyOf(p))!);
    if (lastProgressAtMs !== null) this.lastProgressMs = lastProgressAtMs;
    this.sample(nowMs, partitions);
  }

  private sample(nowMs: number, partitions: readonly PartitionObservation[]): void {
    let max: number | null = null;
    for (const p of partitions) {
      if (p.secondsBehind !== null) max = Math.max(max ?? 0, p.secondsBehind);
      // Lag in records with no time estimate yet still means "not caught up"; 0 records means 0 s.
      else if (p.committedOffset !== null && p.endOffset - p.committedOffset === 0)
        max = Math.max(max ?? 0, 0);
    }
    if (max === null) return;
    const last = this.samples[this.samples.length - 1];
    const heartbeat = this.options.heartbeatMs ?? 60_000;
    const crossed =
      last !== undefined && this.options.objectives.some((o) => last.lagSeconds > o !== max! > o);
    if (last === undefined || crossed || nowMs - last.timestampMs >= heartbeat) {
      this.samples.push({ timestampMs: nowMs, lagSeconds: max });
    }
    const oldest = nowMs - this.options.sampleRetentionMs;
    let drop = 0;
    // Keep one sample older than the window: it holds into the window's start.
    while (drop + 1 < this.samples.length && this.samples[drop + 1]!.timestampMs <= oldest) drop++;
    if (drop > 0) this.samples = this.samples.slice(drop);
  }

  /** Burrow inputs, one per partition: the histories themselves, valid until the next observe. */
  commitWindows(): readonly PartitionInput[] {
    return this.windows;
  }

  lagSamples(): readonly LagSample[] {
    return this.samples;
  }
}
