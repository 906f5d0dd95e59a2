// Compiles plan expressions into closures once, so per-row evaluation does no tree dispatch.
// SQL three-valued logic: NULL (null) propagates; a filter keeps a row only when its condition is true.
// Before an aggregation `row` is the source row; after it, the group's values (keys and
// window.start/window.end) with `aggregates` holding the final aggregate values.
import type { Row } from '../types';
import type { Expr } from '../plan/expr';
import { castValue } from './coerce';

export type Evaluator = (row: Row, aggregates?: readonly unknown[]) => unknown;

type Scalar = number | string | boolean;

export function compileExpr(expr: Expr): Evaluator {
  switch (expr.kind) {
    case 'column':
    case 'groupKey': {
      const { name } = expr;
      return (row) => row[name] ?? null;
    }
    case 'windowBound': {
      const field = `${expr.session ? 'session_window' : 'window'}.${expr.bound}`;
      return (row) => row[field] ?? null;
    }
    case 'aggregate': {
      const { index } = expr;
      return (_row, aggregates) => aggregates?.[index] ?? null;
    }
    case 'literal': {
      const { value } = expr;
      return () => value;
    }
    case 'arithmetic':
      return arithmetic(expr.op, compileExpr(expr.left), compileExpr(expr.right));
    case 'negate': {
      const arg = compileExpr(expr.arg);
      return (row, aggs) => {
        const v = arg(row, aggs);
        return v === null ? null : -(v as number);
      };
    }
    case 'compare':
      return compare(expr.op, compileExpr(expr.left), compileExpr(expr.right));
    case 'logic':
      return logic(expr.op, compileExpr(expr.left), compileExpr(expr.right));
    case 'not': {
      const arg = compileExpr(expr.arg);
      return (row, aggs) => {
        const v = arg(row, aggs);
        return v === null ? null : !v;
      };
    }
    case 'isNull': {
      const arg = compileExpr(expr.arg);
      const negated = expr.negated;
      return (row, aggs) => (arg(row, aggs) === null) !== negated;
    }
    case 'like':
      return like(compileExpr(expr.arg), compileExpr(expr.pattern), expr.negated);
    case 'in': {
      const arg = compileExpr(expr.arg);
      const list = expr.list.map(compileExpr);
      const negated = expr.negated;
      return (row, aggs) => {
        const v = arg(row, aggs);
        if (v === null) return null;
        let sawNull = false;
        for (const item of list) {
          const candidate = item(row, aggs);
          if (candidate === null) sawNull = true;
          else if (candidate === v) return !negated;
        }
        return sawNull ? null : negated;
      };
    }
    case 'between': {
      const [arg, low, high] = [compileExpr(expr.arg), compileExpr(expr.low), compileExpr(expr.high)];
      const negated = expr.negated;
      return (row, aggs) => {
        const v = arg(row, aggs) as Scalar | null;
        const lo = low(row, aggs) as Scalar | null;
        const hi = high(row, aggs) as Scalar | null;
        if (v === null || lo === null || hi === null) return null;
        return (v >= lo && v <= hi) !== negated;
      };
    }
    case 'call':
      return stringFunction(expr);
    case 'cast': {
      const arg = compileExpr(expr.arg);
      const { type } = expr;
      const fromTimestamp = expr.arg.type === 'timestamp';
      return (row, aggs) => castValue(arg(row, aggs), type, fromTimestamp);
    }
  }
}

function arithmetic(op: string, left: Evaluator, right: Evaluator): Evaluator {
  const apply: (a: number, b: number) => number | null =
    op === '+'
      ? (a, b) => a + b
      : op === '-'
        ? (a, b) => a - b
        : op === '*'
          ? (a, b) => a * b
          : op === '/'
            ? (a, b) => (b === 0 ? null : a / b) // Spark (non-ANSI): x / 0 is NULL
            : (a, b) => (b === 0 ? null : a % b);
  return (row, aggs) => {
    const a = left(row, aggs);
    const b = right(row, aggs);
    return a === null || b === null ? null : apply(a as number, b as number);
  };
}

function compare(op: string, left: Evaluator, right: Evaluator): Evaluator {
  const test: (a: Scalar, b: Scalar) => boolean =
    op === '='
      ? (a, b) => a === b
      : op === '<>'
        ? (a, b) => a !== b
        : op === '<'
          ? (a, b) => a < b
          : op === '<='
            ? (a, b) => a <= b
            : op === '>'
              ? (a, b) => a > b
              : (a, b) => a >= b;
  return (row, aggs) => {
    const a = left(row, aggs) as Scalar | null;
    const b = right(row, aggs) as Scalar | null;
    return a === null || b === null ? null : test(a, b);
  };
}

function logic(op: 'and' | 'or', left: Evaluator, right: Evaluator): Evaluator {
  const decisive = op === 'or'; // true decides OR, false decides AND
  return (row, aggs) => {
    const a = left(row, aggs);
    if (a === decisive) return decisive;
    const b = right(row, aggs);
    if (b === decisive) return decisive;
    return a === null || b === null ? null : !decisive;
  };
}

function like(arg: Evaluator, pattern: Evaluator, negated: boolean): Evaluator {
  const cache = new Map<string, RegExp>();
  return (row, aggs) => {
    const value = arg(row, aggs);
    const p = pattern(row, aggs);
    if (value === null || p === null) return null;
    let regex = cache.get(p as string);
    if (!regex) {
      regex = likeToRegex(p as string);
      if (cache.size < 1000) cache.set(p as string, regex);
    }
    return regex.test(value as string) !== negated;
  };
}

/** SQL LIKE → RegExp: % any run, _ one character, \ escapes the next character. */
export function likeToRegex(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? '';
    if (c === '\\' && i + 1 < pattern.length) source += escapeRegex(pattern[++i] ?? '');
    else if (c === '%') source += '[\\s\\S]*';
    else if (c === '_') source += '[\\s\\S]';
    else source += escapeRegex(c);
  }
  return new RegExp(`^${source}$`, 'u');
}

function escapeRegex(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

function stringFunction(expr: Extract<Expr, { kind: 'call' }>): Evaluator {
  const args = expr.args.map(compileExpr);
  const [first, second, third] = args;
  switch (expr.fn) {
    case 'lower':
    case 'upper': {
      const upper = expr.fn === 'upper';
      return (row, aggs) => {
        const v = first?.(row, aggs) ?? null;
        return v === null ? null : upper ? String(v).toUpperCase() : String(v).toLowerCase();
      };
    }
    case 'concat': {
      const show = expr.args.map((a) =>
        a.type === 'timestamp' ? (v: unknown) => new Date(v as number).toISOString() : String,
      );
      return (row, aggs) => {
        let out = '';
        for (const [i, arg] of args.entries()) {
          const v = arg(row, aggs);
          if (v === null) return null;
          out += show[i]?.(v) ?? String(v);
        }
        return out;
      };
    }
    case 'substring':
      return (row, aggs) => {
        const s = first?.(row, aggs) ?? null;
        const pos = second?.(row, aggs) ?? null;
        const len = third ? third(row, aggs) : Number.MAX_SAFE_INTEGER;
        if (s === null || pos === null || len === null) return null;
        return substringSql(String(s), pos as number, len as number);
      };
  }
}

/** Spark's substring: 1-based, 0 acts as 1, a negative position counts from the end. */
export function substringSql(s: string, pos: number, length: number): string {
  const start = pos > 0 ? pos - 1 : pos < 0 ? s.length + pos : 0;
  const end = start + length;
  const from = Math.max(start, 0);
  return from >= end ? '' : s.slice(from, end);
}
