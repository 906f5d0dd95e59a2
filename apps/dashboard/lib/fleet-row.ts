// One row of the queries page, derived from the control plane's answers (pure, unit-tested).
export interface QuerySummary {
  id: string;
  name: string;
  phase: string;
  desired: { state: string; version: number; instances: number; rateLimit: number | null };
  lastProgressAt: string | null;
  updatedAt: string;
}

export interface ProgressLike {
  timestamp: string;
  inputRowsPerSecond?: number;
  processedRowsPerSecond?: number;
  sluice?: { instance?: string };
}

export interface LagLike {
  totalRecordsBehind: number;
  maxSecondsBehind: number | null;
}

export interface FleetRow {
  id: string;
  name: string;
  phase: string;
  desiredState: string;
  version: number;
  desiredInstances: number;
  runningInstances: number | null;
  rateLimit: number | null;
  inputRowsPerSecond: number | null;
  processedRowsPerSecond: number | null;
  lagRecords: number | null;
  lagSeconds: number | null;
  /** Recent lag in records, oldest first (at most LAG_HISTORY samples), for the sparkline. */
  lagHistory: number[];
  firingAlerts: number | null;
  lastProgressAt: string | null;
}

export const LAG_HISTORY = 60;

/**
 * Rates of a query with several instances: the newest event of each instance, summed. Events
 * older than `staleMs` before the newest one are from instances that have gone (scale-in).
 */
export function sumRates(
  events: ProgressLike[],
  staleMs = 30_000,
): { input: number; processed: number } | null {
  if (events.length === 0) return null;
  const newest = new Map<string, ProgressLike>();
  for (const e of events) {
    const key = e.sluice?.instance ?? '';
    const seen = newest.get(key);
    if (!seen || Date.parse(seen.timestamp) < Date.parse(e.timestamp)) newest.set(key, e);
  }
  const latest = Math.max(...[...newest.values()].map((e) => Date.parse(e.timestamp)));
  let input = 0;
  let processed = 0;
  for (const e of newest.values()) {
    if (latest - Date.parse(e.timestamp) > staleMs) continue;
    input += e.inputRowsPerSecond ?? 0;
    processed += e.processedRowsPerSecond ?? 0;
  }
  return { input, processed };
}

export function pushBounded(history: number[], value: number, max = LAG_HISTORY): number[] {
  const next = history.length >= max ? history.slice(history.length - max + 1) : history.slice();
  next.push(value);
  return next;
}

export type SortKey = 'name' | 'phase' | 'version' | 'input' | 'processed' | 'lagRecords' | 'lagSeconds';

const sortValue: Record<SortKey, (r: FleetRow) => string | number> = {
  name: (r) => r.name,
  phase: (r) => r.phase,
  version: (r) => r.version,
  input: (r) => r.inputRowsPerSecond ?? -1,
  processed: (r) => r.processedRowsPerSecond ?? -1,
  lagRecords: (r) => r.lagRecords ?? -1,
  lagSeconds: (r) => r.lagSeconds ?? -1,
};

/**
 * Rows in the queries page's order (code-unit order for text; a missing figure sorts as -1). The
 * server renders the first rows of the default order with the same function the table sorts with.
 */
export function sortRows(rows: readonly FleetRow[], key: SortKey, dir: 1 | -1): FleetRow[] {
  const value = sortValue[key];
  return [...rows].sort((a, b) => {
    const x = value(a);
    const y = value(b);
    return (x < y ? -1 : x > y ? 1 : 0) * dir;
  });
}
