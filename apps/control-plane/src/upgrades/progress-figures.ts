// What the stored progress events say about one version of a query: the figures an upgrade's
// drain, flush and health gate judge. Pure, over rows of ProgressEvent.
import type { VersionOnCheckpoint } from '../runtime/checkpoint-lineage';
import { reportingInstance } from '../progress/command-acknowledgements';

export { acknowledgements } from '../progress/command-acknowledgements';

export interface ProgressRow {
  instance: string | null;
  timestamp: Date;
  payload: unknown;
}

interface Payload {
  numInputRows?: number;
  sources?: Array<{ endOffset?: unknown; latestOffset?: unknown }>;
  sluice?: {
    queryVersion?: number;
    instance?: string;
    invalidRows?: number;
    ackedCommands?: string[];
    tasks?: string[];
    sinkBatches?: number;
    writtenOutputRows?: number;
    deadLetteredOutputRows?: number;
    checkpointEpoch?: number;
    sourcesPaused?: boolean;
    shuffleBacklog?: number;
    continued?: {
      fromEpoch?: number;
      backlog?: { rows?: number; withoutOrigin?: number; partlyAggregatedRecords?: number };
    };
    error?: string;
    waitedOut?: boolean;
  };
}

const payloadOf = (row: ProgressRow): Payload => (row.payload ?? {}) as Payload;
const instanceOf = reportingInstance;

/** Is the event from this version on this checkpoint? (Events before lineages carry no epoch: 0.) */
export function isFrom(row: ProgressRow, target: VersionOnCheckpoint): boolean {
  const s = payloadOf(row).sluice;
  return s?.queryVersion === target.version && (s.checkpointEpoch ?? 0) === target.checkpointEpoch;
}

/** Every source at its latest offset: an idle trigger of a caught-up query. */
function caughtUp(p: Payload): boolean {
  return (p.sources ?? []).every((s) => JSON.stringify(s.endOffset) === JSON.stringify(s.latestOffset));
}

export interface VersionFigures {
  /**
   * Triggers that committed a batch to the sink with at least one row written (or none refused),
   * plus idle reports of a caught-up source. A stateful plan's source tasks commit to the
   * repartition topic even when the sink refuses everything, so they alone are no batch.
   */
  batches: number;
  /**
   * Sink batches whose every output row went to dead letters: the sink refused the version's
   * rows, so they are no batches (kept apart so the gate's figures show why they were not counted).
   */
  refusedBatches: number;
  /** Instances with a trigger that committed (to the sink or not) or an idle report. */
  instances: string[];
  invalidRows: number;
  inputRows: number;
  /** Output rows the sink committed, and output rows sent to dead letters instead. */
  writtenOutputRows: number;
  deadLetteredOutputRows: number;
  firstBatchAt: Date | null;
  lastBatchAt: Date | null;
  /** Triggers that failed (retried by the engine; their rows are read again): not batches. */
  failedTriggers: number;
  lastTriggerError: string | null;
  /**
   * The longest run of failed triggers an instance is in now (its batches end a run; triggers
   * that committed no sink batch neither end nor extend it), and that instance.
   */
  failingInARow: number;
  failingInstance: string | null;
  /** The last error of that instance (`lastTriggerError` may be another instance's). */
  failingError: string | null;
  /**
   * What a continuing lineage's start found in the old shuffle backlog (its events all carry it;
   * null without a backlog or before the new version reported).
   */
  oldBacklog: { rows: number; withoutOrigin: number; partlyAggregatedRecords: number } | null;
}

/** The figures of `target`'s events among `rows` (the caller bounds them in time). */
export function versionFigures(rows: ProgressRow[], target: VersionOnCheckpoint): VersionFigures {
  const out: VersionFigures = {
    batches: 0,
    refusedBatches: 0,
    instances: [],
    invalidRows: 0,
    inputRows: 0,
    writtenOutputRows: 0,
    deadLetteredOutputRows: 0,
    firstBatchAt: null,
    lastBatchAt: null,
    failedTriggers: 0,
    lastTriggerError: null,
    failingInARow: 0,
    failingInstance: null,
    failingError: null,
    oldBacklog: null,
  };
  const instances = new Set<string>();
  const inARow = new Map<string, number>();
  const lastError = new Map<string, string>();
  for (const row of rows) {
    if (!isFrom(row, target)) continue;
    const p = payloadOf(row);
    const backlog = p.sluice?.continued?.backlog;
    if (backlog)
      out.oldBacklog = {
        rows: backlog.rows ?? 0,
        withoutOrigin: backlog.withoutOrigin ?? 0,
        partlyAggregatedRecords: backlog.partlyAggregatedRecords ?? 0,
      };
    const instance = instanceOf(row);
    if (p.sluice?.error !== undefined) {
      out.failedTriggers++;
      out.lastTriggerError = p.sluice.error;
      lastError.set(instance, p.sluice.error);
      // A database outage the engine waits out is not the version's failure (the old one would
      // wait too): left to the window, as the engine leaves it out of its own count.
      if (!p.sluice.waitedOut) inARow.set(instance, (inARow.get(instance) ?? 0) + 1);
      continue;
    }
    out.invalidRows += p.sluice?.invalidRows ?? 0;
    out.inputRows += p.numInputRows ?? 0;
    const written = p.sluice?.writtenOutputRows ?? 0;
    const deadLettered = p.sluice?.deadLetteredOutputRows ?? 0;
    out.writtenOutputRows += written;
    out.deadLetteredOutputRows += deadLettered;
    const ran = (p.sluice?.tasks?.length ?? 0) > 0;
    // Engines from before `sinkBatches` count every task that committed, as the gate used to.
    const sinkBatch =
      p.sluice?.sinkBatches === undefined
        ? ran
        : p.sluice.sinkBatches > 0 && (written > 0 || deadLettered === 0);
    const idle = !ran && caughtUp(p);
    // Every instance shows it works by a trigger that committed, not necessarily to the sink: in
    // a stateful plan an instance may own no shuffle partition with rows (a global aggregation
    // writes from one). Whether the version writes its sink is the batches' count.
    if (ran || idle) instances.add(instance);
    if ((p.sluice?.sinkBatches ?? 0) > 0 && written === 0 && deadLettered > 0) out.refusedBatches++;
    if (!sinkBatch && !idle) continue;
    out.batches++;
    inARow.set(instance, 0);
    if (ran) {
      out.firstBatchAt ??= row.timestamp;
      out.lastBatchAt = row.timestamp;
    }
  }
  out.instances = [...instances].sort();
  for (const [instance, n] of [...inARow].sort(([a], [b]) => a.localeCompare(b)))
    if (n > out.failingInARow) {
      out.failingInARow = n;
      out.failingInstance = instance;
      out.failingError = lastError.get(instance) ?? null;
    }
  return out;
}

/**
 * The shuffle backlog each instance reported last in an event that started after `afterMs` while
 * its sources were paused (an instance absent has not reported since).
 */
export function pausedBacklogs(rows: ProgressRow[], afterMs: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const row of rows) {
    const s = payloadOf(row).sluice;
    if (row.timestamp.getTime() <= afterMs || !s?.sourcesPaused) continue;
    out.set(instanceOf(row), s.shuffleBacklog ?? 0);
  }
  return out;
}

/**
 * The error of each instance whose last trigger while paused (started after `afterMs`) failed:
 * a shuffle stage that fails cannot flush its backlog, so waiting for it is pointless.
 */
export function pausedErrors(rows: ProgressRow[], afterMs: number): Map<string, string> {
  const last = new Map<string, string | undefined>();
  for (const row of rows) {
    const s = payloadOf(row).sluice;
    if (row.timestamp.getTime() <= afterMs || !s?.sourcesPaused) continue;
    last.set(instanceOf(row), s.error);
  }
  return new Map([...last].filter((e): e is [string, string] => e[1] !== undefined));
}
