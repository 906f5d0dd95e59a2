// One row of the queries page, derived from the control plane's answers (pure, unit-tested).
import type { QueryLiveFigures, QuerySummary } from '@sluice/contracts';

export type { QueryLiveFigures, QuerySummary };

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
  lagReadAt: string | null;
}

export const LAG_HISTORY = 60;

/** Phases of a query known not to run: its last reported rates are history, not its rate now. */
const NOT_RUNNING = new Set(['STOPPED', 'FAILED']);

/**
 * The row with the query's newest figures; the row itself when they change nothing (the table
 * re-renders only changed rows). A stopped or failed query shows rates of 0 rather than the last
 * ones it reported. The lag sparkline gains a sample per lag reading (every 5 s), not per update;
 * a query the control plane no longer reads the lag of (stopped) shows none.
 */
export function withFigures(row: FleetRow, f: QueryLiveFigures): FleetRow {
  const live = !NOT_RUNNING.has(row.phase);
  const input = f.inputRowsPerSecond === null ? null : live ? f.inputRowsPerSecond : 0;
  const processed = f.processedRowsPerSecond === null ? null : live ? f.processedRowsPerSecond : 0;
  const lagChanged = f.lagReadAt !== row.lagReadAt;
  if (
    !lagChanged &&
    row.runningInstances === f.runningInstances &&
    row.inputRowsPerSecond === input &&
    row.processedRowsPerSecond === processed &&
    row.firingAlerts === f.firingAlerts
  )
    return row;
  return {
    ...row,
    runningInstances: f.runningInstances,
    inputRowsPerSecond: input,
    processedRowsPerSecond: processed,
    firingAlerts: f.firingAlerts,
    ...(lagChanged
      ? {
          lagRecords: f.lagRecords,
          lagSeconds: f.lagSeconds,
          lagReadAt: f.lagReadAt,
          lagHistory: f.lagRecords === null ? row.lagHistory : pushBounded(row.lagHistory, f.lagRecords),
        }
      : {}),
  };
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
