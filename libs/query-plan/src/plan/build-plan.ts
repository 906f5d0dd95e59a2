// Assembles the operator chain of a compiled query and hashes every operator.
import { sourceStream, type ColumnType, type OutputMode, type SourceSpec } from '../types';
import type { AggregateCall, Expr } from './expr';
import { displayAggregate } from './expr-display';
import { outputType } from './expr-types';
import { withHash } from './hash';
import {
  PLAN_VERSION,
  type AggregateOperator,
  type DedupeOperator,
  type FilterOperator,
  type LogicalPlan,
  type PlanOperator,
  type ProjectOperator,
  type ScanOperator,
  type StateSchema,
  type StatefulFunctionOperator,
} from './logical-plan';
import type { Grouping } from './grouping';
import type { StaticJoinOperator, StreamJoinOperator } from './join-operators';

export interface PlanInput {
  sourceName: string;
  source: SourceSpec;
  outputMode: OutputMode;
  numShufflePartitions: number;
  where?: Expr;
  /** A stream–static join, right after the scan (plan/join.ts). */
  join?: StaticJoinOperator;
  /** A stream–stream join: the right source's scan and the join (plan/stream-join.ts). */
  streamJoin?: { operator: StreamJoinOperator; rightSource: SourceSpec };
  /** Output columns; expressions read the source row, or group values/aggregates after an aggregation. */
  columns: Array<{ name: string; expr: Expr }>;
  aggregation?: { grouping: Grouping; aggregates: AggregateCall[]; eventTimeKey?: string };
  dedupe?: { keys: Array<{ name: string; expr: Expr }>; withinWatermark?: boolean };
  /** A stateful function after the projection; its output replaces the projection's. */
  stateful?: { operator: StatefulFunctionOperator; output: Array<{ name: string; type: ColumnType }> };
}

export function buildPlan(input: PlanInput): LogicalPlan {
  const { source } = input;
  const operators: PlanOperator[] = [scanOperator(input.sourceName, source)];
  if (input.join) operators.push(input.join);
  if (input.streamJoin)
    operators.push(
      scanOperator(input.streamJoin.operator.right, input.streamJoin.rightSource),
      input.streamJoin.operator,
    );
  if (input.where)
    operators.push(withHash<FilterOperator>({ id: 'filter', op: 'filter', condition: input.where }));
  if (input.aggregation) operators.push(aggregateOperator(input.aggregation));
  if (input.dedupe)
    operators.push(
      dedupeOperator(input.dedupe.keys, source.watermark, input.dedupe.withinWatermark === true),
    );
  operators.push(withHash<ProjectOperator>({ id: 'project', op: 'project', columns: input.columns }));
  if (input.stateful) operators.push(input.stateful.operator);
  return {
    version: PLAN_VERSION,
    kind: input.aggregation
      ? 'aggregate'
      : input.dedupe
        ? 'dedupe'
        : input.stateful
          ? 'stateful'
          : input.streamJoin
            ? 'join'
            : 'stateless',
    outputMode: input.outputMode,
    numShufflePartitions: input.numShufflePartitions,
    sourceTopics: input.streamJoin
      ? [sourceStream(source), sourceStream(input.streamJoin.rightSource)]
      : [sourceStream(source)],
    operators,
    output:
      input.stateful?.output ?? input.columns.map((c) => ({ name: c.name, type: outputType(c.expr.type) })),
  };
}

function scanOperator(name: string, source: SourceSpec): ScanOperator {
  const scan: Omit<ScanOperator, 'hash'> = {
    id: 'scan',
    op: 'scan',
    source: name,
    topic: sourceStream(source),
    format: source.format,
    schema: Object.entries(source.schema).map(([column, type]) => ({ name: column, type })),
  };
  return withHash<ScanOperator>(source.watermark ? { ...scan, watermark: source.watermark } : scan);
}

function aggregateOperator(aggregation: NonNullable<PlanInput['aggregation']>): AggregateOperator {
  const { grouping, aggregates, eventTimeKey } = aggregation;
  const bound = grouping.window ? 'window' : grouping.session ? 'session_window' : undefined;
  const windowKey = bound
    ? [
        { name: `${bound}.start`, type: 'timestamp' },
        { name: `${bound}.end`, type: 'timestamp' },
      ]
    : [];
  const stateSchema: StateSchema = {
    key: [...windowKey, ...grouping.keys.map((k) => ({ name: k.name, type: outputType(k.expr.type) }))],
    value: aggregates.map((call) => ({ name: displayAggregate(call), type: bufferType(call) })),
  };
  const op: Omit<AggregateOperator, 'hash'> = {
    id: 'aggregate',
    op: 'aggregate',
    keys: grouping.keys,
    aggregates,
    stateSchema,
  };
  if (grouping.window) op.window = grouping.window;
  if (grouping.session) op.session = grouping.session;
  if (eventTimeKey !== undefined) op.eventTimeKey = eventTimeKey;
  return withHash<AggregateOperator>(op);
}

function dedupeOperator(
  keys: Array<{ name: string; expr: Expr }>,
  watermark: SourceSpec['watermark'],
  withinWatermark: boolean,
): DedupeOperator {
  const within = withinWatermark && watermark !== undefined;
  const stateSchema: StateSchema = {
    key: keys.map((k) => ({ name: k.name, type: outputType(k.expr.type) })),
    value: watermark ? [{ name: within ? 'expiresAt' : 'eventTime', type: 'timestamp' }] : [],
  };
  const op: Omit<DedupeOperator, 'hash'> = { id: 'dedupe', op: 'dedupe', keys, stateSchema };
  if (watermark) op.expiry = { eventTimeColumn: watermark.column, delayMs: watermark.delayMs };
  if (within) op.withinWatermark = true;
  return withHash<DedupeOperator>(op);
}

/** The JSON shape of an aggregate's buffer in the state store. */
function bufferType(call: AggregateCall): string {
  if (call.fn === 'count') return 'long';
  if (call.fn === 'avg') return 'struct<sum:double,count:long>';
  return outputType(call.type);
}
