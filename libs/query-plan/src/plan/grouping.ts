// GROUP BY analysis: window(col, size[, slide]) and plain keys, and binding the SELECT list of an
// aggregation to its grouping keys (Spark's "expression is neither present in the group by, nor
// is it an aggregate function" check).
import { parseDuration } from '../spec/duration';
import type { ExprBuilder } from '../sql/expr-builder';
import { functionName, type FunctionNode, type SqlNode, type ValueNode } from '../sql/sql-ast';
import type { Expr } from './expr';
import { children, collect, rewrite } from './expr-walk';
import { canonicalJson } from './hash';
import type { SessionWindowSpec, WindowSpec } from './logical-plan';
import { analyzeSessionWindow } from './session-window';

export interface Grouping {
  window?: WindowSpec;
  session?: SessionWindowSpec;
  keys: Array<{ name: string; expr: Expr }>;
}

/** Resolves GROUP BY items; `aliases` lets a key name a SELECT alias, as Spark allows. */
export function analyzeGroupBy(
  nodes: readonly SqlNode[],
  builder: ExprBuilder,
  aliases: ReadonlyMap<string, Expr>,
  sqlStart: number,
): Grouping {
  const grouping: Grouping = { keys: [] };
  const seen = new Set<string>();
  for (const node of nodes) {
    const offset = node.loc?.start.offset ?? sqlStart;
    const fn = node.type === 'function' ? functionName(node as FunctionNode).toLowerCase() : '';
    if (fn === 'window' || fn === 'session_window') {
      if (grouping.window || grouping.session)
        builder.error(offset, 'only one window(...) or session_window(...) per GROUP BY');
      else if (fn === 'window') grouping.window = analyzeWindow(node as FunctionNode, builder, offset);
      else grouping.session = analyzeSessionWindow(node as FunctionNode, builder, offset);
      continue;
    }
    if (node.type === 'number') {
      builder.error(offset, 'GROUP BY positions are not supported; name the column');
      continue;
    }
    const expr = groupKeyExpr(node, builder, aliases, offset);
    const key = canonicalJson(expr);
    if (seen.has(key)) continue;
    seen.add(key);
    const name = expr.kind === 'column' ? expr.name : `$k${grouping.keys.length}`;
    grouping.keys.push({ name, expr });
  }
  return grouping;
}

function groupKeyExpr(
  node: SqlNode,
  builder: ExprBuilder,
  aliases: ReadonlyMap<string, Expr>,
  offset: number,
): Expr {
  if (node.type === 'column_ref') {
    const ref = node as SqlNode & { table: string | null; column: unknown };
    const alias = typeof ref.column === 'string' && !ref.table ? aliases.get(ref.column) : undefined;
    if (alias && builder.resolveColumn(ref.column as string) === undefined) return alias;
  }
  return builder.build(node, 'group by', offset);
}

function analyzeWindow(node: FunctionNode, builder: ExprBuilder, offset: number): WindowSpec | undefined {
  const [columnNode, sizeNode, slideNode, ...rest] = node.args?.value ?? [];
  if (!columnNode || !sizeNode) {
    builder.error(offset, "window() needs a timestamp column and a duration, e.g. window(ts, '1 minute')");
    return undefined;
  }
  if (rest.length > 0) {
    builder.error(offset, 'window() startTime is not supported; use window(col, size[, slide])');
    return undefined;
  }
  const column = builder.build(columnNode, 'group by', offset);
  if (column.kind !== 'column' || column.type !== 'timestamp') {
    if (column.kind === 'column')
      builder.error(
        builder.offsetOf(column, offset),
        `window() needs a timestamp column, "${column.name}" is ${column.type}`,
      );
    else if (column.type !== 'null') builder.error(offset, 'window() needs a timestamp column');
    return undefined;
  }
  const sizeMs = windowDuration(sizeNode, builder, offset, 'window size');
  const slideMs = slideNode ? windowDuration(slideNode, builder, offset, 'window slide') : sizeMs;
  if (sizeMs === undefined || slideMs === undefined) return undefined;
  if (slideMs > sizeMs) {
    builder.error(offset, 'the window slide must not be longer than the window size');
    return undefined;
  }
  return { column: column.name, sizeMs, slideMs };
}

export function windowDuration(
  node: SqlNode,
  builder: ExprBuilder,
  offset: number,
  what: string,
): number | undefined {
  const value = (node as ValueNode).value;
  const ms = typeof value === 'string' && node.type.endsWith('string') ? parseDuration(value) : undefined;
  if (ms === undefined || ms <= 0) {
    builder.error(
      node.loc?.start.offset ?? offset,
      `${what} must be a positive duration string such as '1 minute'`,
    );
    return undefined;
  }
  return ms;
}

/**
 * Rewrites a SELECT expression of an aggregation so that grouping-key subtrees read the group's
 * values; reports every column left over, which is neither grouped nor aggregated.
 */
export function bindToGrouping(
  expr: Expr,
  grouping: Grouping,
  builder: ExprBuilder,
  fallbackOffset: number,
): Expr {
  const keys = new Map(grouping.keys.map((k) => [canonicalJson(k.expr), k.name]));
  // Only subtrees no larger than some key can equal it: serialising every subtree of a deep
  // expression would be quadratic.
  const sizes = subtreeSizes(expr);
  const largestKey = Math.max(0, ...grouping.keys.map((k) => subtreeSizes(k.expr).get(k.expr) ?? 0));
  const bound = rewrite(expr, (e) => {
    if (e.kind === 'literal' || (sizes.get(e) ?? 0) > largestKey) return undefined;
    const name = keys.get(canonicalJson(e));
    return name === undefined ? undefined : { kind: 'groupKey', name, type: e.type };
  });
  for (const column of collect(bound, (e) => e.kind === 'column')) {
    const name = column.kind === 'column' ? column.name : '';
    builder.error(
      builder.offsetOf(column, fallbackOffset),
      `column "${name}" is neither in GROUP BY nor inside an aggregate function such as max(${name})`,
    );
  }
  return bound;
}

/** Node count of every subtree of `expr`, in one walk. */
function subtreeSizes(expr: Expr): WeakMap<Expr, number> {
  const sizes = new WeakMap<Expr, number>();
  const size = (e: Expr): number => {
    let n = 1;
    for (const child of children(e)) n += size(child);
    sizes.set(e, n);
    return n;
  };
  size(expr);
  return sizes;
}
