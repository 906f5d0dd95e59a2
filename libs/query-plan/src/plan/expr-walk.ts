// Generic traversal of plan expressions.
import type { Expr } from './expr';

export function children(expr: Expr): Expr[] {
  switch (expr.kind) {
    case 'arithmetic':
    case 'compare':
    case 'logic':
      return [expr.left, expr.right];
    case 'negate':
    case 'not':
    case 'isNull':
    case 'cast':
      return [expr.arg];
    case 'like':
      return [expr.arg, expr.pattern];
    case 'in':
      return [expr.arg, ...expr.list];
    case 'between':
      return [expr.arg, expr.low, expr.high];
    case 'call':
      return expr.args;
    default:
      return [];
  }
}

/** Rebuilds `expr` bottom-up, letting `replace` substitute a node before its children are visited. */
export function rewrite(expr: Expr, replace: (e: Expr) => Expr | undefined): Expr {
  const replaced = replace(expr);
  if (replaced) return replaced;
  const r = (e: Expr): Expr => rewrite(e, replace);
  switch (expr.kind) {
    case 'arithmetic':
    case 'compare':
    case 'logic':
      return { ...expr, left: r(expr.left), right: r(expr.right) };
    case 'negate':
    case 'not':
    case 'isNull':
    case 'cast':
      return { ...expr, arg: r(expr.arg) };
    case 'like':
      return { ...expr, arg: r(expr.arg), pattern: r(expr.pattern) };
    case 'in':
      return { ...expr, arg: r(expr.arg), list: expr.list.map(r) };
    case 'between':
      return { ...expr, arg: r(expr.arg), low: r(expr.low), high: r(expr.high) };
    case 'call':
      return { ...expr, args: expr.args.map(r) };
    default:
      return expr;
  }
}

/** All nodes of `expr` (pre-order) that satisfy `test`. */
export function collect(expr: Expr, test: (e: Expr) => boolean, found: Expr[] = []): Expr[] {
  // One array for the whole walk: concatenating each subtree's results would copy them once per
  // level above, quadratic for the deep trees of long AND/OR or arithmetic chains.
  if (test(expr)) found.push(expr);
  for (const child of children(expr)) collect(child, test, found);
  return found;
}
