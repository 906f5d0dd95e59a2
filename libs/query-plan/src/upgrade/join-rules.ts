// Rules for joins. Spark, Structured Streaming Programming Guide, "Recovery Semantics after
// Changes in a Streaming Query": changes between a stream–static join's static side are allowed
// ("the schema and equi-joining columns ... are not allowed" applies to stream–stream joins,
// whose state holds both sides). A stream–static join keeps no state: what its static side is
// only decides future output. Its join type decides which rows reach what follows, so where a
// stateful operator follows, a changed join type leaves that state counted under the old one.
import type { StaticJoinOperator } from '../plan/join-operators';
import type { LogicalPlan } from '../plan/logical-plan';
import { canonicalJson } from '../plan/hash';
import { statefulOf } from './plan-columns';
import type { UpgradeChange, UpgradePair } from './upgrade-types';

const staticJoinOf = (plan: LogicalPlan): StaticJoinOperator | undefined =>
  plan.operators.find((op): op is StaticJoinOperator => op.op === 'staticJoin');

export function joinChanges({ before, after }: UpgradePair): UpgradeChange[] {
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
