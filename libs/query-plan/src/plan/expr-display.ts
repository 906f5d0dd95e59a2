// SQL-like text of a plan expression: the output column name Spark would give an unaliased
// expression (e.g. "sum(bytes)", "lower(url)"), and names in state schemas.
import type { AggregateCall, Expr } from './expr';

export function displayExpr(expr: Expr, aggregates: readonly AggregateCall[] = []): string {
  const show = (e: Expr): string => displayExpr(e, aggregates);
  switch (expr.kind) {
    case 'column':
      return expr.name;
    case 'literal':
      if (expr.value === null) return 'NULL';
      return typeof expr.value === 'string' ? `'${expr.value}'` : String(expr.value);
    case 'arithmetic':
      return `(${show(expr.left)} ${expr.op} ${show(expr.right)})`;
    case 'negate':
      return `(- ${show(expr.arg)})`;
    case 'compare':
      return `(${show(expr.left)} ${expr.op} ${show(expr.right)})`;
    case 'logic':
      return `(${show(expr.left)} ${expr.op.toUpperCase()} ${show(expr.right)})`;
    case 'not':
      return `(NOT ${show(expr.arg)})`;
    case 'isNull':
      return `(${show(expr.arg)} IS ${expr.negated ? 'NOT ' : ''}NULL)`;
    case 'like':
      return `${show(expr.arg)} ${expr.negated ? 'NOT ' : ''}LIKE ${show(expr.pattern)}`;
    case 'in':
      return `(${show(expr.arg)} ${expr.negated ? 'NOT ' : ''}IN (${expr.list.map(show).join(', ')}))`;
    case 'between':
      return `(${show(expr.arg)} ${expr.negated ? 'NOT ' : ''}BETWEEN ${show(expr.low)} AND ${show(expr.high)})`;
    case 'call':
      return `${expr.fn}(${expr.args.map(show).join(', ')})`;
    case 'cast':
      return `CAST(${show(expr.arg)} AS ${expr.type.toUpperCase()})`;
    case 'groupKey':
      return expr.name;
    case 'aggregate': {
      const call = aggregates[expr.index];
      return call ? displayAggregate(call) : `agg${expr.index}`;
    }
    case 'windowBound':
      return expr.bound; // Spark names window.start / session_window.start "start"
  }
}

export function displayAggregate(call: AggregateCall): string {
  return `${call.fn}(${call.arg ? displayExpr(call.arg) : '*'})`;
}
