// ON of a stream–stream join → StreamJoinOperator, with Spark's rules for a join whose state
// must stay bounded (UnsupportedOperationChecker, StreamingJoinHelper): both sources carry a
// watermark, and ON bounds the right event time on both sides relative to the left one
// (b.ts BETWEEN a.ts AND a.ts + INTERVAL '1 hour', or >= / <= pairs), so that each side's rows
// can be evicted once the watermark passes them. A query without them is refused at validate.
import { sourceStream, type SourceSpec } from '../types';
import type { ExprBuilder } from '../sql/expr-builder';
import { nodeOffset } from '../sql/sql-ast';
import type { Expr } from './expr';
import { comparable, outputType } from './expr-types';
import { collect } from './expr-walk';
import { withHash } from './hash';
import { conjuncts, type StreamJoinSide } from './join';
import { joinedColumn, type StreamJoinOperator } from './join-operators';

const HINT = "e.g. ON a.k = b.k AND b.ts BETWEEN a.ts AND a.ts + INTERVAL '1 hour'";

export function compileStreamJoin(
  left: { name: string; alias: string | null; source: SourceSpec },
  side: StreamJoinSide,
  builder: ExprBuilder,
): StreamJoinOperator | undefined {
  const prefix = joinedColumn(side.name, '');
  const errorsBefore = builder.issues.length;
  const fail = (offset: number, message: string): undefined => {
    builder.error(offset, message);
    return undefined;
  };
  const onOffset = nodeOffset(side.on) ?? side.offset;
  if (sourceStream(left.source) === sourceStream(side.source))
    fail(
      side.offset,
      `both sides of the join read "${sourceStream(side.source)}": a stream–stream join reads two different streams`,
    );
  const missing = [left, { name: side.name, source: side.source }].filter((s) => !s.source.watermark);
  if (missing.length > 0)
    fail(
      side.offset,
      `a stream–stream join needs a watermark on both sources (${missing.map((s) => `sources.${s.name}.watermark`).join(' and ')} missing): without one, neither side's state could ever be evicted`,
    );
  const isRight = (c: Expr): boolean => c.kind === 'column' && c.name.startsWith(prefix);
  const isLeft = (c: Expr): boolean => c.kind === 'column' && !c.name.startsWith(prefix);
  const reads = (e: Expr, test: (c: Expr) => boolean): boolean => collect(e, test).length > 0;

  const leftKeys: Expr[] = [];
  const rightKeys: Expr[] = [];
  const residual: Expr[] = [];
  const leftTs = left.source.watermark?.column;
  const rightTs = side.source.watermark ? prefix + side.source.watermark.column : undefined;
  let lowerMs: number | undefined;
  let upperMs: number | undefined;
  for (const node of conjuncts(side.on)) {
    const offset = nodeOffset(node) ?? side.offset;
    const expr = builder.build(node, 'on', offset);
    if (expr.type !== 'boolean' && expr.type !== 'null') {
      fail(offset, `ON needs a boolean condition, got ${expr.type}`);
      continue;
    }
    if (expr.kind === 'compare' && expr.op === '=') {
      const [l, r] =
        reads(expr.left, isLeft) && !reads(expr.left, isRight)
          ? [expr.left, expr.right]
          : [expr.right, expr.left];
      if (
        reads(l, isLeft) &&
        !reads(l, isRight) &&
        reads(r, isRight) &&
        !reads(r, isLeft) &&
        !timeColumn(l, leftTs)
      ) {
        if (!comparable(l.type, r.type)) {
          fail(offset, `join key type mismatch: ${l.type} = ${r.type}; CAST one side`);
          continue;
        }
        leftKeys.push(l);
        rightKeys.push(r);
        continue;
      }
    }
    residual.push(expr);
    if (leftTs === undefined || rightTs === undefined) continue;
    for (const bound of timeBounds(expr, leftTs, rightTs)) {
      if (bound.lower !== undefined) lowerMs = Math.max(lowerMs ?? -Infinity, bound.lower);
      if (bound.upper !== undefined) upperMs = Math.min(upperMs ?? Infinity, bound.upper);
    }
  }
  if (leftKeys.length === 0)
    fail(
      onOffset,
      `ON needs an equality between a column of "${left.alias ?? left.name}" and one of "${side.alias ?? side.name}" (the join key), ${HINT}`,
    );
  if (leftTs !== undefined && rightTs !== undefined && (lowerMs === undefined || upperMs === undefined))
    fail(
      onOffset,
      `a stream–stream join needs a time-range condition bounding ${side.alias ?? side.name}.${side.source.watermark?.column} on both sides relative to ${left.alias ?? left.name}.${leftTs} (${lowerMs === undefined ? 'no lower bound' : 'no upper bound'}), ${HINT}: without it the join's state could never be evicted`,
    );
  else if (lowerMs !== undefined && upperMs !== undefined && lowerMs > upperMs)
    fail(
      onOffset,
      'the time-range condition is empty (its lower bound is above its upper bound): no row could ever match',
    );
  if (builder.issues.length > errorsBefore || lowerMs === undefined || upperMs === undefined)
    return undefined;
  const keyNames = leftKeys.map((k, i) => ({ name: `key${i}`, type: outputType(k.type) }));
  const op: Omit<StreamJoinOperator, 'hash'> = {
    id: 'join',
    op: 'streamJoin',
    joinType: side.joinType,
    left: left.name,
    right: side.name,
    leftKeys,
    rightKeys,
    timeRange: { leftColumn: leftTs!, rightColumn: rightTs!, lowerMs, upperMs },
    // One entry per side and key: the rows of that side with that key (Spark keeps keyToNumValues
    // and keyWithIndexToValue per side; the rows are the value here).
    stateSchema: {
      key: [{ name: 'side', type: 'string' }, ...keyNames],
      value: [
        { name: 'rows', type: `array<struct<${sideColumns(left.source, side.source)}>>` },
        { name: 'matched', type: 'boolean' },
      ],
    },
  };
  const rest = residual.reduce<Expr | undefined>(
    (acc, e) => (acc ? { kind: 'logic', op: 'and', left: acc, right: e, type: 'boolean' } : e),
    undefined,
  );
  return withHash<StreamJoinOperator>(rest ? { ...op, residual: rest } : op);
}

function sideColumns(left: SourceSpec, right: SourceSpec): string {
  const cols = (s: SourceSpec) =>
    Object.entries(s.schema)
      .map(([n, t]) => `${n}:${t}`)
      .join(',');
  return `left:struct<${cols(left)}>|right:struct<${cols(right)}>`;
}

/** `column ± interval…` as an offset from `column`, or undefined. */
function offsetFrom(e: Expr, column: string): number | undefined {
  if (e.kind === 'column') return e.name === column ? 0 : undefined;
  if (e.kind === 'arithmetic' && (e.op === '+' || e.op === '-') && e.right.kind === 'literal') {
    const base = offsetFrom(e.left, column);
    const v = e.right.value;
    if (base === undefined || typeof v !== 'number') return undefined;
    return e.op === '+' ? base + v : base - v;
  }
  return undefined;
}

function timeColumn(e: Expr, column: string | undefined): boolean {
  return column !== undefined && offsetFrom(e, column) !== undefined;
}

/**
 * Bounds on rightTs - leftTs that `expr` implies: `right op left + c` gives lower (>, >=) or
 * upper (<, <=) bound c, with either side of the comparison holding the right time.
 */
function timeBounds(expr: Expr, leftTs: string, rightTs: string): Array<{ lower?: number; upper?: number }> {
  if (expr.kind === 'between' && !expr.negated) {
    const r = offsetFrom(expr.arg, rightTs);
    const lo = offsetFrom(expr.low, leftTs);
    const hi = offsetFrom(expr.high, leftTs);
    if (r === undefined || lo === undefined || hi === undefined) return [];
    return [{ lower: lo - r, upper: hi - r }];
  }
  if (expr.kind !== 'compare') return [];
  const flip: Record<string, string> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=', '=': '=' };
  let op: string = expr.op;
  let r = offsetFrom(expr.left, rightTs);
  let l = offsetFrom(expr.right, leftTs);
  if (r === undefined || l === undefined) {
    r = offsetFrom(expr.right, rightTs);
    l = offsetFrom(expr.left, leftTs);
    op = flip[op] ?? op;
  }
  if (r === undefined || l === undefined) return [];
  const c = l - r; // right op left + c
  if (op === '>' || op === '>=') return [{ lower: c }];
  if (op === '<' || op === '<=') return [{ upper: c }];
  if (op === '=') return [{ lower: c, upper: c }];
  return [];
}
