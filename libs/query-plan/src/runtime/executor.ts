// Row-level execution of a compiled plan for the engine. The engine owns batching, state and
// watermarks; this is the pure per-row logic: filter, project, group assignment, aggregation
// buffers and deduplication keys.
import type { ColumnType, Row } from '../types';
import {
  PLAN_VERSION,
  type AggregateOperator,
  type DedupeOperator,
  type FilterOperator,
  type LogicalPlan,
  type ProjectOperator,
  type ScanOperator,
  type SessionWindowSpec,
  type StatefulFunctionOperator,
} from '../plan/logical-plan';
import type { StatefulFunction } from './group-state';
import { createAggregator, type AggregationBuffer } from './aggregates';
import { compileExpr, type Evaluator } from './evaluate';
import { windowsFor } from './windows';
import { staticJoin, type StaticJoin } from './static-join';
import type { StaticJoinOperator, StreamJoinOperator } from '../plan/join-operators';
import { streamJoin, type StreamJoin } from './stream-join';
import { stateColumns } from '../upgrade/plan-columns';

export interface GroupAssignment {
  /** Stable string identifying the group (window start + key values). */
  key: string;
  /** Grouping key values by name, plus "window.start"/"window.end" when windowed. */
  values: Row;
  /** When the watermark reaches this, the group is final and its state can go (absent: never). */
  expiresAtMs?: number;
}

export interface QueryExecutor {
  kind: 'stateless' | 'aggregate' | 'dedupe' | 'join' | 'stateful';
  output: Array<{ name: string; type: ColumnType }>;
  filter(row: Row): boolean;
  project(row: Row): Row;
  groups(row: Row): GroupAssignment[];
  /** The group values of a `key` from groups(): lets state keep only the key, not the values too. */
  groupValues(key: string): Row;
  /**
   * Aggregations: the part of a filtered row the shuffle stage reads (aggregate inputs, keys,
   * window/session and watermark columns: upgrade/plan-columns stateColumns), so that the
   * repartition topic does not carry the others. Every other kind: the row itself.
   */
  shuffleRow(row: Row): Row;
  initBuffer(): unknown;
  update(buffer: unknown, row: Row): unknown;
  finalize(values: Row, buffer: unknown): Row;
  dedupeKey(row: Row): string;
  /**
   * dropDuplicatesWithinWatermark: when a key first seen in `row` expires (its event time + the
   * watermark delay); undefined for plain deduplication or a row without an event time.
   */
  dedupeExpiresAtMs(row: Row): number | undefined;
  eventTimeMs(row: Row): number | undefined;
  /** Present for a stream–static join: applied to each decoded row before filter() (static-join.ts). */
  staticJoin?: StaticJoin;
  /** Present for a stream–stream join (kind 'join'): the shuffle stage runs it (stream-join.ts). */
  streamJoin?: StreamJoin;
  /** Session-window aggregations: the session spec (the stage merges sessions per group key). */
  session: SessionWindowSpec | undefined;
  /** The session-window column's time of a row (undefined: NULL, the row is dropped). */
  sessionTimeMs(row: Row): number | undefined;
  /** Combines the aggregation buffers of two sessions that merge. */
  mergeBuffers(a: unknown, b: unknown): unknown;
  /** Stateful-function plans: the operator and the loaded function (instantiate's option). */
  stateful: { operator: StatefulFunctionOperator; fn: StatefulFunction } | undefined;
  /** Stateful-function plans: the key of a projected row (JSON of the key columns' values). */
  statefulKey(projected: Row): string;
}

/** `statefulFunction`: the loaded function of a plan with a stateful operator (required there). */
export function instantiate(
  plan: LogicalPlan,
  options: { statefulFunction?: StatefulFunction } = {},
): QueryExecutor {
  if (plan.version !== PLAN_VERSION)
    throw new Error(
      `unsupported plan version ${String(plan.version)} (this engine runs version ${PLAN_VERSION})`,
    );
  const scan = find<ScanOperator>(plan, 'scan');
  const filterOp = find<FilterOperator>(plan, 'filter');
  const aggregateOp = find<AggregateOperator>(plan, 'aggregate');
  const dedupeOp = find<DedupeOperator>(plan, 'dedupe');
  const projectOp = find<ProjectOperator>(plan, 'project');
  const joinOp = plan.operators.find((op): op is StaticJoinOperator => op.op === 'staticJoin');
  const streamJoinOp = plan.operators.find((op): op is StreamJoinOperator => op.op === 'streamJoin');
  const statefulOp = find<StatefulFunctionOperator>(plan, 'stateful');
  if (statefulOp && !options.statefulFunction)
    throw new Error(
      `the plan calls ${statefulOp.export} from ${statefulOp.module}: load it and pass it as statefulFunction`,
    );
  if (!scan || !projectOp) throw new Error('invalid plan: it needs a scan and a project operator');

  const condition = filterOp ? compileExpr(filterOp.condition) : undefined;
  const columns = projectOp.columns.map((c) => [c.name, compileExpr(c.expr)] as const);
  const evaluateColumns = (row: Row, aggregates?: readonly unknown[]): Row => {
    const out: Row = {};
    for (const [name, evaluate] of columns) out[name] = evaluate(row, aggregates);
    return out;
  };
  const watermarkColumn = scan.watermark?.column;
  const misuse = (method: string): never => {
    throw new Error(`${method}() does not apply to a ${plan.kind} plan`);
  };
  const aggregation = aggregateOp ? aggregationParts(aggregateOp, plan, watermarkColumn) : undefined;
  const dedupeKeys = dedupeOp?.keys.map((k) => compileExpr(k.expr));
  // Only aggregations: a dedupe's stage 2 projects the whole row, a join or stateful function
  // reads every column (their rows travel whole).
  const shuffleColumns = plan.kind === 'aggregate' && aggregateOp ? [...stateColumns(plan)] : undefined;

  return {
    ...(joinOp ? { staticJoin: staticJoin(joinOp) } : {}),
    ...(streamJoinOp ? { streamJoin: streamJoin(streamJoinOp, joinTopics(plan)) } : {}),
    kind: plan.kind,
    output: plan.output,
    filter: (row) => (condition ? condition(row) === true : true),
    project: (row) => (plan.kind === 'aggregate' ? misuse('project') : evaluateColumns(row)),
    groups: (row) => (aggregation ? aggregation.groups(row) : misuse('groups')),
    groupValues: (key) => (aggregation ? aggregation.valuesOf(key) : misuse('groupValues')),
    shuffleRow: (row) => {
      if (!shuffleColumns) return row;
      const out: Row = {};
      for (const name of shuffleColumns) if (name in row) out[name] = row[name];
      return out;
    },
    initBuffer: () => (aggregation ? aggregation.aggregator.init() : misuse('initBuffer')),
    update: (buffer, row) =>
      aggregation ? aggregation.aggregator.update(buffer as AggregationBuffer, row) : misuse('update'),
    finalize: (values, buffer) =>
      aggregation
        ? evaluateColumns(values, aggregation.aggregator.finish(buffer as AggregationBuffer))
        : misuse('finalize'),
    dedupeKey: (row) =>
      dedupeKeys ? JSON.stringify(dedupeKeys.map((key) => key(row))) : misuse('dedupeKey'),
    session: aggregateOp?.session,
    stateful:
      statefulOp && options.statefulFunction
        ? { operator: statefulOp, fn: options.statefulFunction }
        : undefined,
    statefulKey: (projected) =>
      statefulOp ? JSON.stringify(statefulOp.key.map((k) => projected[k] ?? null)) : misuse('statefulKey'),
    sessionTimeMs: (row) => {
      if (!aggregateOp?.session) return misuse('sessionTimeMs');
      const value = row[aggregateOp.session.column];
      return typeof value === 'number' ? value : undefined;
    },
    mergeBuffers: (a, b) =>
      aggregation
        ? aggregation.aggregator.merge(a as AggregationBuffer, b as AggregationBuffer)
        : misuse('mergeBuffers'),
    dedupeExpiresAtMs: (row) => {
      if (!dedupeOp) return misuse('dedupeExpiresAtMs');
      if (!dedupeOp.withinWatermark || !dedupeOp.expiry) return undefined;
      const value = row[dedupeOp.expiry.eventTimeColumn];
      return typeof value === 'number' ? value + dedupeOp.expiry.delayMs : undefined;
    },
    eventTimeMs: (row) => {
      if (watermarkColumn === undefined) return undefined;
      const value = row[watermarkColumn];
      return typeof value === 'number' ? value : undefined;
    },
  };
}

function aggregationParts(op: AggregateOperator, plan: LogicalPlan, watermarkColumn: string | undefined) {
  const keys: Array<[string, Evaluator]> = op.keys.map((k) => [k.name, compileExpr(k.expr)]);
  const aggregator = createAggregator(op.aggregates);
  // Complete mode re-emits every group, so (as in Spark) nothing is evicted there.
  const evicts = plan.outputMode !== 'complete' && watermarkColumn !== undefined;
  const windowExpires = evicts && op.window?.column === watermarkColumn;
  const keyExpires = evicts && op.eventTimeKey !== undefined ? op.eventTimeKey : undefined;
  const window = op.window;
  const session = op.session;

  const groups = (row: Row): GroupAssignment[] => {
    const values: Row = {};
    const keyValues: unknown[] = [];
    for (const [name, evaluate] of keys) {
      const value = evaluate(row);
      values[name] = value;
      keyValues.push(value);
    }
    const keyExpiry = keyExpires === undefined ? undefined : values[keyExpires];
    const expiresAtMs = typeof keyExpiry === 'number' ? keyExpiry : undefined;
    if (session) {
      // The state key is the grouping key alone: a key's sessions are merged in one state entry.
      // The values carry the row's own session, for the sink's check of the group's output row.
      const time = row[session.column];
      if (typeof time !== 'number') return []; // Spark drops rows whose session column is NULL
      return [
        {
          key: JSON.stringify(keyValues),
          values: { 'session_window.start': time, 'session_window.end': time + session.gapMs, ...values },
        },
      ];
    }
    if (!window) return [groupAssignment(JSON.stringify(keyValues), values, expiresAtMs)];
    const time = row[window.column];
    if (typeof time !== 'number') return []; // Spark drops rows whose window column is NULL
    return windowsFor(time, window.sizeMs, window.slideMs).map(({ start, end }) =>
      groupAssignment(
        JSON.stringify([start, ...keyValues]),
        { 'window.start': start, 'window.end': end, ...values },
        windowExpires ? end : expiresAtMs,
      ),
    );
  };
  // Inverse of the key built above: [windowStart?, ...keyValues] in key order (a session
  // window's key has no bounds: the stage adds each session's).
  const valuesOf = (key: string): Row => {
    const parsed = JSON.parse(key) as unknown[];
    const values: Row = {};
    let i = 0;
    if (window) {
      const start = parsed[i++] as number;
      values['window.start'] = start;
      values['window.end'] = start + window.sizeMs;
    }
    for (const [name] of keys) values[name] = parsed[i++];
    return values;
  };
  return { groups, aggregator, valuesOf };
}

// Built in one literal (this runs once per aggregated row): a group without expiry has no
// `expiresAtMs` key at all, as the state and the shuffle expect.
function groupAssignment(key: string, values: Row, expiresAtMs: number | undefined): GroupAssignment {
  return expiresAtMs === undefined ? { key, values } : { key, values, expiresAtMs };
}

/** The topics of a stream–stream join's sides: the plan's first and second scans. */
function joinTopics(plan: LogicalPlan): { l: string; r: string } {
  const scans = plan.operators.filter((op): op is ScanOperator => op.op === 'scan');
  return { l: scans[0]?.topic ?? '', r: scans[1]?.topic ?? '' };
}

function find<T extends { id: string }>(plan: LogicalPlan, id: T['id']): T | undefined {
  return plan.operators.find((op) => op.id === id) as T | undefined;
}
