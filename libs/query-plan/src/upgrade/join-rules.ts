// Rules for joins. Spark, Structured Streaming Programming Guide, "Recovery Semantics after
// Changes in a Streaming Query": changes between a stream–static join's static side are allowed
// ("the schema and equi-joining columns ... are not allowed" applies to stream–stream joins,
// whose state holds both sides). A stream–static join keeps no state: what its static side is
// only decides future output. Its join type decides which rows reach what follows, so where a
// stateful operator follows, a changed join type leaves that state counted under the old one.
import type { StaticJoinOperator, StreamJoinOperator } from '../plan/join-operators';
import type { LogicalPlan } from '../plan/logical-plan';
import { canonicalJson } from '../plan/hash';
import { statefulOf } from './plan-columns';
import type { UpgradeChange, UpgradePair } from './upgrade-types';

const staticJoinOf = (plan: LogicalPlan): StaticJoinOperator | undefined =>
  plan.operators.find((op): op is StaticJoinOperator => op.op === 'staticJoin');

const streamJoinOf = (plan: LogicalPlan): StreamJoinOperator | undefined =>
  plan.operators.find((op): op is StreamJoinOperator => op.op === 'streamJoin');

export function joinChanges(pair: UpgradePair): UpgradeChange[] {
  return [...staticJoinChanges(pair), ...streamJoinChanges(pair)];
}

/**
 * A stream–stream join's state holds both sides' rows under the join key (Spark: "changes in
 * the schema or equi-joining columns are not allowed", nor in the join type). Its state schema,
 * keys, join type and time range must stay; other parts of ON only decide future matches.
 */
function streamJoinChanges({ before, after }: UpgradePair): UpgradeChange[] {
  const was = streamJoinOf(before.plan);
  const now = streamJoinOf(after.plan);
  if (!was || !now) return []; // a join added or removed changes the number of sources: source.count
  const changes: UpgradeChange[] = [];
  const incompatible = (kind: string, what: string, b: string, a: string): void => {
    changes.push({
      kind,
      severity: 'incompatible',
      operator: 'join',
      before: b,
      after: a,
      message: `stream–stream join ${what} changed (${b} → ${a}); the checkpointed join state was kept for the old one`,
    });
  };
  if (was.joinType !== now.joinType) incompatible('join.type', 'type', was.joinType, now.joinType);
  const keys = (op: StreamJoinOperator): string =>
    canonicalJson([op.left, op.right, op.leftKeys, op.rightKeys]);
  if (keys(was) !== keys(now)) incompatible('join.keys', 'keys', keys(was), keys(now));
  const schema = (op: StreamJoinOperator): string => canonicalJson(op.stateSchema);
  if (schema(was) !== schema(now)) incompatible('join.stateSchema', 'state schema', schema(was), schema(now));
  const range = (op: StreamJoinOperator): string => canonicalJson(op.timeRange);
  if (range(was) !== range(now))
    changes.push({
      kind: 'join.timeRange',
      severity: 'caveat',
      operator: 'join',
      before: range(was),
      after: range(now),
      message:
        'the time range changed; rows kept under the old range are evicted by the new one, so matches near the switch may differ',
    });
  if (
    canonicalJson(was.residual ?? null) !== canonicalJson(now.residual ?? null) &&
    range(was) === range(now)
  )
    changes.push({
      kind: 'join.condition',
      severity: 'allowed',
      operator: 'join',
      message: 'the join condition changed; it decides matches from the next batch on',
    });
  return changes;
}

function staticJoinChanges({ before, after }: UpgradePair): UpgradeChange[] {
  const was = staticJoinOf(before.plan);
  const now = staticJoinOf(after.plan);
  if (!was && !now) return [];
  const stateful = statefulOf(after.plan) !== undefined;
  const downstream = stateful ? 'incompatible' : 'caveat';
  const why = stateful
    ? 'the stateful operator after it holds state built from the old join output'
    : 'rows already emitted stay as the old join produced them';
  if (!was || !now)
    return [
      {
        kind: !was ? 'join.added' : 'join.removed',
        severity: downstream,
        operator: 'join',
        message: `stream–static join ${!was ? `with "${now?.table}" added` : `with "${was.table}" removed`}; ${why}`,
      },
    ];
  const changes: UpgradeChange[] = [];
  if (was.joinType !== now.joinType)
    changes.push({
      kind: 'join.type',
      severity: stateful ? 'incompatible' : 'allowed',
      operator: 'join',
      before: was.joinType,
      after: now.joinType,
      message: `join type changed (${was.joinType} → ${now.joinType}); ${stateful ? why : 'the join keeps no state, so new batches simply join the new way'}`,
    });
  const tableBefore = before.spec.tables?.[was.table];
  const tableAfter = after.spec.tables?.[now.table];
  if (tableBefore && tableAfter) {
    const source = (t: typeof tableBefore): string => `${t.connection}:${t.table}`;
    if (source(tableBefore) !== source(tableAfter))
      changes.push({
        kind: 'join.table',
        severity: 'caveat',
        operator: 'join',
        path: `tables.${now.table}.${tableBefore.connection !== tableAfter.connection ? 'connection' : 'table'}`,
        before: source(tableBefore),
        after: source(tableAfter),
        message: `the static table changed (${source(tableBefore)} → ${source(tableAfter)}); allowed (a stream–static join keeps no state), but rows emitted before the switch were joined with the old table`,
      });
  }
  const keys = (op: StaticJoinOperator): string =>
    canonicalJson([op.table, op.streamKeys, op.tableKeys, op.residual ?? null, op.schema]);
  if (keys(was) !== keys(now))
    changes.push({
      kind: 'join.condition',
      severity: stateful ? 'caveat' : 'allowed',
      operator: 'join',
      message: `the join condition or the table's columns changed; ${stateful ? 'state after it mixes rows joined the old and the new way' : 'new batches join the new way'}`,
    });
  return changes;
}
