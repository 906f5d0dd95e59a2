// Which source columns feed a plan's state, and which only its filter: the severity of a source
// schema or filter change depends on whether old and new rows meet in the same state.
import type { Expr } from '../plan/expr';
import { collect } from '../plan/expr-walk';
import { isStateful, type LogicalPlan, type ScanOperator, type StatefulOperator } from '../plan/logical-plan';

export function scanOf(plan: LogicalPlan): ScanOperator | undefined {
  return plan.operators.find((op): op is ScanOperator => op.op === 'scan');
}

export function statefulOf(plan: LogicalPlan): StatefulOperator | undefined {
  return plan.operators.find(isStateful);
}

export function columnsOf(exprs: ReadonlyArray<Expr | undefined>): Set<string> {
  const names = new Set<string>();
  for (const expr of exprs) {
    if (!expr) continue;
    for (const found of collect(expr, (e) => e.kind === 'column'))
      if (found.kind === 'column') names.add(found.name);
  }
  return names;
}

/** Source columns read by the stateful operator itself (keys, aggregate inputs, window, event time). */
export function stateColumns(plan: LogicalPlan): Set<string> {
  const op = statefulOf(plan);
  if (!op) return new Set();
  const names =
    op.op === 'aggregate'
      ? columnsOf([...op.keys.map((k) => k.expr), ...op.aggregates.map((a) => a.arg)])
      : op.op === 'dedupe'
        ? columnsOf(op.keys.map((k) => k.expr))
        : // A stateful function sees every projected column: all of them feed its state.
          columnsOf(plan.operators.flatMap((o) => (o.op === 'project' ? o.columns.map((c) => c.expr) : [])));
  if (op.op === 'aggregate' && op.window) names.add(op.window.column);
  if (op.op === 'aggregate' && op.session) names.add(op.session.column);
  const watermark = scanOf(plan)?.watermark;
  if (watermark) names.add(watermark.column);
  return names;
}

/** Source columns read by the filter of a stateful plan (it decides which rows reach the state). */
export function filterColumnsFeedingState(plan: LogicalPlan): Set<string> {
  if (!statefulOf(plan)) return new Set();
  const filter = plan.operators.find((op) => op.op === 'filter');
  return filter?.op === 'filter' ? columnsOf([filter.condition]) : new Set();
}
