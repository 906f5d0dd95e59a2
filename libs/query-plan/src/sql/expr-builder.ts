// Turns node-sql-parser expressions into typed plan expressions against one source's schema.
// Problems are collected (with SQL offsets) rather than thrown, so one compile reports them all.
import type { ColumnType } from '../types';
import { parseTimestamp } from '../runtime/coerce';
import type { AggregateCall, AggregateFunction, ComparisonOp, Expr, ExprType } from '../plan/expr';
import { arithmeticType, CAST_TYPES, comparable, isNumeric } from '../plan/expr-types';
import { canonicalJson } from '../plan/hash';
import { unstorable } from '../spec/value-checks';
import {
  columnName,
  functionName,
  nodeOffset,
  type AggrFuncNode,
  type BinaryNode,
  type CastNode,
  type ColumnRefNode,
  type ExprListNode,
  type FunctionNode,
  type SqlNode,
  type UnaryNode,
  type ValueNode,
} from './sql-ast';

export interface SqlIssue {
  offset: number;
  message: string;
}

export interface SourceScope {
  name: string;
  alias: string | null;
  schema: Record<string, ColumnType>;
  /**
   * Tables joined to the source (plan/join.ts): their columns are in `schema` as
   * `<prefix><column>`, and `t.col` or an unambiguous bare `col` resolves to them.
   */
  joined?: Array<{ name: string; alias: string | null; prefix: string }>;
}

export type Clause = 'select' | 'where' | 'group by' | 'on';

const AGGREGATES: Record<string, AggregateFunction> = {
  COUNT: 'count',
  SUM: 'sum',
  MIN: 'min',
  MAX: 'max',
  AVG: 'avg',
};
const COMPARISONS: Record<string, ComparisonOp> = {
  '=': '=',
  '<>': '<>',
  '!=': '<>',
  '<': '<',
  '<=': '<=',
  '>': '>',
  '>=': '>=',
};
const INTERVAL_UNITS: Record<string, number> = {
  second: 1000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
};
const STRING_LITERALS = new Set(['single_quote_string', 'double_quote_string', 'string', 'natural_string']);
const nullLiteral = (): Expr => ({ kind: 'literal', value: null, type: 'null' });

export class ExprBuilder {
  readonly issues: SqlIssue[] = [];
  /** SQL offset of each built expression, for errors found in later passes. */
  readonly offsets = new WeakMap<Expr, number>();
  /** Aggregate calls found in the SELECT list, deduplicated; `aggregate` nodes index into it. */
  readonly aggregates: AggregateCall[] = [];
  /** Index in `aggregates` by canonical JSON: a lookup per call, where comparing with each would be quadratic. */
  private readonly aggregateIndex = new Map<string, number>();
  /** Literals that came from INTERVAL (milliseconds): `timestamp ± interval` is a timestamp. */
  private readonly intervals = new WeakSet<Expr>();

  constructor(private readonly scope: SourceScope) {}

  build(node: SqlNode, clause: Clause, fallbackOffset: number): Expr {
    return this.convert(node, { clause, insideAggregate: false, offset: fallbackOffset });
  }

  error(offset: number, message: string): void {
    this.issues.push({ offset, message });
  }

  offsetOf(expr: Expr, fallback: number): number {
    return this.offsets.get(expr) ?? fallback;
  }

  /** Resolves a column name as Spark does by default: exact match first, else case-insensitively. */
  resolveColumn(name: string): string | undefined {
    if (name in this.scope.schema) return name;
    const matches = Object.keys(this.scope.schema).filter((c) => c.toLowerCase() === name.toLowerCase());
    return matches.length === 1 ? matches[0] : undefined;
  }

  schemaType(column: string): ColumnType | undefined {
    return this.scope.schema[column];
  }

  matchesSource(table: string): boolean {
    const t = table.toLowerCase();
    return t === this.scope.name.toLowerCase() || t === this.scope.alias?.toLowerCase();
  }

  private convert(node: SqlNode, ctx: { clause: Clause; insideAggregate: boolean; offset: number }): Expr {
    const here = { ...ctx, offset: nodeOffset(node) ?? ctx.offset };
    const expr = this.convertNode(node, here);
    if (!this.offsets.has(expr)) this.offsets.set(expr, here.offset);
    return expr;
  }

  private convertNode(
    node: SqlNode,
    ctx: { clause: Clause; insideAggregate: boolean; offset: number },
  ): Expr {
    const sub = (child: SqlNode): Expr => this.convert(child, ctx);
    const fail = (message: string): Expr => {
      this.error(ctx.offset, message);
      return nullLiteral();
    };
    if (STRING_LITERALS.has(node.type)) {
      const value = unquote(String((node as ValueNode).value), node.type);
      // node-sql-parser decodes escapes such as \u0000; the plan is stored where these cannot be.
      const problem = unstorable(value);
      return problem
        ? fail(`the string literal contains ${problem}`)
        : { kind: 'literal', value, type: 'string' };
    }
    switch (node.type) {
      case 'column_ref':
        return this.column(node as ColumnRefNode, ctx.offset);
      case 'number':
        return (
          numberLiteral(Number((node as ValueNode).value)) ??
          fail(`invalid number ${String((node as ValueNode).value)}`)
        );
      case 'bool':
      case 'boolean':
        return { kind: 'literal', value: Boolean((node as ValueNode).value), type: 'boolean' };
      case 'null':
        return nullLiteral();
      case 'binary_expr':
        return this.binary(node as BinaryNode, sub, ctx.offset);
      case 'unary_expr':
        return this.unary(node as UnaryNode, sub, ctx.offset);
      case 'function':
        return this.call(node as FunctionNode, sub, ctx.offset);
      case 'aggr_func':
        return this.aggregate(node as AggrFuncNode, ctx);
      case 'cast':
        return this.cast(node as CastNode, sub, ctx.offset);
      case 'case':
        return fail('CASE is not supported');
      case 'interval':
        return this.interval(node as SqlNode & { expr?: ValueNode; unit?: string }, fail);
      default:
        return fail(`unsupported SQL expression (${node.type})`);
    }
  }

  private column(node: ColumnRefNode, offset: number): Expr {
    const name = columnName(node);
    if (node.table?.toLowerCase() === 'window' && !this.matchesSource('window')) {
      if (name === 'start' || name === 'end') return { kind: 'windowBound', bound: name, type: 'timestamp' };
      this.error(offset, `unknown window field "${name}": use window.start or window.end`);
      return nullLiteral();
    }
    if (node.table?.toLowerCase() === 'session_window' && !this.matchesSource('session_window')) {
      if (name === 'start' || name === 'end')
        return { kind: 'windowBound', bound: name, session: true, type: 'timestamp' };
      this.error(
        offset,
        `unknown session_window field "${name}": use session_window.start or session_window.end`,
      );
      return nullLiteral();
    }
    if (name === '*') {
      this.error(offset, '* is only allowed as a whole SELECT item');
      return nullLiteral();
    }
    if (this.scope.joined) return this.joinedColumn(node.table, name, offset);
    if (node.table && !this.matchesSource(node.table)) {
      this.error(offset, `unknown table "${node.table}" (the query reads "${this.scope.name}")`);
      return nullLiteral();
    }
    const resolved = this.resolveColumn(name);
    const type = resolved === undefined ? undefined : this.scope.schema[resolved];
    if (resolved === undefined || type === undefined) {
      this.error(
        offset,
        `unknown column "${name}" (${this.scope.name} has ${Object.keys(this.scope.schema).join(', ')})`,
      );
      return nullLiteral();
    }
    return { kind: 'column', name: resolved, type };
  }

  /** A column of a join's scope: qualified by a side, or bare and found on exactly one side. */
  private joinedColumn(table: string | null, name: string, offset: number): Expr {
    const sides = [
      { name: this.scope.name, alias: this.scope.alias, prefix: '' },
      ...(this.scope.joined ?? []),
    ];
    const matches = (side: { name: string; alias: string | null }, t: string): boolean =>
      t.toLowerCase() === side.name.toLowerCase() || t.toLowerCase() === side.alias?.toLowerCase();
    const candidates = table === null ? sides : sides.filter((side) => matches(side, table));
    if (candidates.length === 0) {
      this.error(
        offset,
        `unknown table "${table}" (the query reads ${sides.map((s) => `"${s.alias ?? s.name}"`).join(', ')})`,
      );
      return nullLiteral();
    }
    const found = candidates.flatMap((side) => {
      const columns = Object.keys(this.scope.schema).filter(
        (c) => c.startsWith(side.prefix) && !c.slice(side.prefix.length).includes('.'),
      );
      const exact = columns.find((c) => c === side.prefix + name);
      const loose = columns.filter((c) => c.slice(side.prefix.length).toLowerCase() === name.toLowerCase());
      const column = exact ?? (loose.length === 1 ? loose[0] : undefined);
      return column === undefined ? [] : [{ side, column }];
    });
    const [first, second] = found;
    if (!first) {
      this.error(offset, `unknown column "${table === null ? name : `${table}.${name}`}"`);
      return nullLiteral();
    }
    if (second) {
      this.error(
        offset,
        `column "${name}" is ambiguous: both ${found.map((f) => `"${f.side.alias ?? f.side.name}"`).join(' and ')} have it; qualify it`,
      );
      return nullLiteral();
    }
    return { kind: 'column', name: first.column, type: this.scope.schema[first.column]! };
  }

  /**
   * INTERVAL n UNIT (or Spark's INTERVAL 'n unit') as milliseconds; only `timestamp ± interval`
   * uses it (the time-range condition of a stream–stream join).
   */
  private interval(node: SqlNode & { expr?: ValueNode; unit?: string }, fail: (m: string) => Expr): Expr {
    const unit = INTERVAL_UNITS[String(node.unit ?? '').toLowerCase()];
    const n = Number(node.expr?.value);
    if (unit === undefined || !Number.isSafeInteger(n) || n < 0)
      return fail("INTERVAL takes a whole number of seconds, minutes, hours or days, e.g. INTERVAL '1 hour'");
    const literal: Expr = { kind: 'literal', value: n * unit, type: 'long' };
    this.intervals.add(literal);
    return literal;
  }

  private binary(node: BinaryNode, sub: (n: SqlNode) => Expr, offset: number): Expr {
    const op = node.operator.toUpperCase();
    const fail = (message: string): Expr => {
      this.error(offset, message);
      return nullLiteral();
    };
    if (op === 'IS' || op === 'IS NOT') {
      if (node.right.type !== 'null') return fail(`${op} is only supported with NULL`);
      return { kind: 'isNull', arg: sub(node.left), negated: op === 'IS NOT', type: 'boolean' };
    }
    if (op === 'IN' || op === 'NOT IN' || op === 'BETWEEN' || op === 'NOT BETWEEN') {
      const arg = sub(node.left);
      const items =
        node.right.type === 'expr_list' ? (node.right as ExprListNode).value.map(sub) : [sub(node.right)];
      const list = items.map((item) => this.coerceLiteral(item, arg.type));
      for (const item of list)
        if (!comparable(arg.type, item.type)) return fail(`${op} compares ${arg.type} with ${item.type}`);
      if (op.endsWith('IN')) return { kind: 'in', arg, list, negated: op === 'NOT IN', type: 'boolean' };
      const [low, high] = list;
      if (!low || !high || list.length !== 2) return fail('BETWEEN needs two bounds');
      return { kind: 'between', arg, low, high, negated: op === 'NOT BETWEEN', type: 'boolean' };
    }
    let left = sub(node.left);
    let right = sub(node.right);
    if ((op === '+' || op === '-') && left.type === 'timestamp' && this.intervals.has(right))
      return { kind: 'arithmetic', op, left, right, type: 'timestamp' };
    if (this.intervals.has(left) || this.intervals.has(right))
      return fail('INTERVAL is only supported as <timestamp> + INTERVAL or <timestamp> - INTERVAL');
    if (op === '+' || op === '-' || op === '*' || op === '/' || op === '%') {
      const type = arithmeticType(op, left.type, right.type);
      if (!type) return fail(`operator ${op} needs numbers, got ${left.type} and ${right.type}`);
      return { kind: 'arithmetic', op, left, right, type };
    }
    const comparison = COMPARISONS[op];
    if (comparison) {
      left = this.coerceLiteral(left, right.type);
      right = this.coerceLiteral(right, left.type);
      if (!comparable(left.type, right.type))
        return fail(`cannot compare ${left.type} with ${right.type}; use CAST`);
      return { kind: 'compare', op: comparison, left, right, type: 'boolean' };
    }
    if (op === 'AND' || op === 'OR' || op === '&&') {
      for (const side of [left, right])
        if (side.type !== 'boolean' && side.type !== 'null')
          return fail(`${op} needs boolean operands, got ${side.type}`);
      return { kind: 'logic', op: op === 'OR' ? 'or' : 'and', left, right, type: 'boolean' };
    }
    if (op === '||') return { kind: 'call', fn: 'concat', args: [left, right], type: 'string' }; // Spark: || concatenates
    if (op === 'LIKE' || op === 'NOT LIKE') {
      for (const side of [left, right])
        if (side.type !== 'string' && side.type !== 'null')
          return fail(`LIKE needs strings, got ${side.type}`);
      return { kind: 'like', arg: left, pattern: right, negated: op === 'NOT LIKE', type: 'boolean' };
    }
    return fail(`operator ${node.operator} is not supported`);
  }

  private unary(node: UnaryNode, sub: (n: SqlNode) => Expr, offset: number): Expr {
    const arg = sub(node.expr);
    const op = node.operator.toUpperCase();
    if (op === 'NOT' || op === '!') return this.not(arg, offset);
    if (op === '+' || op === '-') {
      if (!isNumeric(arg.type)) {
        this.error(offset, `unary ${op} needs a number, got ${arg.type}`);
        return nullLiteral();
      }
      if (op === '+') return arg;
      if (arg.kind === 'literal' && typeof arg.value === 'number') return { ...arg, value: -arg.value };
      return { kind: 'negate', arg, type: arg.type };
    }
    this.error(offset, `operator ${node.operator} is not supported`);
    return nullLiteral();
  }

  private not(arg: Expr, offset: number): Expr {
    if (arg.type !== 'boolean' && arg.type !== 'null') {
      this.error(offset, `NOT needs a boolean, got ${arg.type}`);
      return nullLiteral();
    }
    return { kind: 'not', arg, type: 'boolean' };
  }

  private call(node: FunctionNode, sub: (n: SqlNode) => Expr, offset: number): Expr {
    const name = functionName(node).toLowerCase();
    const args = (node.args?.value ?? []).map(sub);
    const fail = (message: string): Expr => {
      this.error(offset, message);
      return nullLiteral();
    };
    if (node.over) return fail(`window functions (OVER) are not supported`);
    const arity = (min: number, max: number): boolean => args.length >= min && args.length <= max;
    switch (name) {
      case 'not':
        return args[0] && args.length === 1 ? this.not(args[0], offset) : fail('NOT takes one operand');
      case 'lower':
      case 'upper': {
        const [arg] = args;
        if (!arg || args.length !== 1) return fail(`${name}() takes one argument`);
        if (arg.type !== 'string' && arg.type !== 'null')
          return fail(`${name}() needs a string, got ${arg.type}; use CAST(… AS STRING)`);
        return { kind: 'call', fn: name, args, type: 'string' };
      }
      case 'concat':
        return args.length > 0
          ? { kind: 'call', fn: 'concat', args, type: 'string' }
          : fail('concat() needs at least one argument');
      case 'substring':
      case 'substr': {
        const [str, ...numbers] = args;
        if (!str || !arity(2, 3)) return fail(`${name}() takes (string, position[, length])`);
        if (str.type !== 'string' && str.type !== 'null')
          return fail(`${name}() needs a string, got ${str.type}`);
        for (const n of numbers)
          if (n.type !== 'int' && n.type !== 'long' && n.type !== 'null')
            return fail(`${name}() position and length must be integers, got ${n.type}`);
        return { kind: 'call', fn: 'substring', args, type: 'string' };
      }
      case 'window':
        return fail('window(...) belongs in GROUP BY; select window.start / window.end');
      case 'session_window':
        return fail(
          'session_window(...) belongs in GROUP BY; select session_window.start / session_window.end',
        );
      default:
        return fail(
          `unknown function "${functionName(node)}" (supported: lower, upper, concat, substring, CAST and count, sum, min, max, avg)`,
        );
    }
  }

  private aggregate(
    node: AggrFuncNode,
    ctx: { clause: Clause; insideAggregate: boolean; offset: number },
  ): Expr {
    const fail = (message: string): Expr => {
      this.error(ctx.offset, message);
      return nullLiteral();
    };
    const fn = AGGREGATES[node.name.toUpperCase()];
    if (!fn) return fail(`unknown aggregate function "${node.name}" (supported: count, sum, min, max, avg)`);
    if (node.over) return fail('window functions (OVER) are not supported');
    if (ctx.clause !== 'select')
      return fail(`aggregate functions are not allowed in ${ctx.clause.toUpperCase()}`);
    if (ctx.insideAggregate) return fail('aggregate functions cannot be nested');
    if (node.args?.distinct) return fail(`${fn}(DISTINCT …) is not supported`);
    const argNode = node.args?.expr;
    let call: AggregateCall;
    if (!argNode || argNode.type === 'star') {
      if (fn !== 'count') return fail(`${fn}(*) is not valid; name a column`);
      call = { fn, type: 'long' };
    } else {
      const arg = this.convert(argNode, { ...ctx, insideAggregate: true });
      if (fn === 'count') {
        // count(1) counts rows like count(*); count(col) counts non-null values.
        call =
          arg.kind === 'literal' && arg.value !== null ? { fn, type: 'long' } : { fn, arg, type: 'long' };
      } else if (fn === 'sum' || fn === 'avg') {
        if (!isNumeric(arg.type)) return fail(`${fn}() needs a number, got ${arg.type}`);
        call = { fn, arg, type: fn === 'avg' || arg.type === 'double' ? 'double' : 'long' };
      } else {
        call = { fn, arg, type: arg.type };
      }
    }
    const key = canonicalJson(call);
    let index = this.aggregateIndex.get(key);
    if (index === undefined) {
      index = this.aggregates.push(call) - 1;
      this.aggregateIndex.set(key, index);
    }
    return { kind: 'aggregate', index, type: call.type };
  }

  private cast(node: CastNode, sub: (n: SqlNode) => Expr, offset: number): Expr {
    const arg = sub(node.expr);
    const target = node.target[0]?.dataType.toUpperCase() ?? '';
    const type = CAST_TYPES[target];
    if (!type) {
      this.error(
        offset,
        `CAST to ${target} is not supported (use STRING, LONG/BIGINT, INT, DOUBLE, BOOLEAN or TIMESTAMP)`,
      );
      return nullLiteral();
    }
    return arg.type === type ? arg : { kind: 'cast', arg, type };
  }

  /** A string literal compared with a timestamp is read as a timestamp, as Spark does. */
  private coerceLiteral(expr: Expr, otherType: ExprType): Expr {
    if (otherType !== 'timestamp' || expr.kind !== 'literal' || typeof expr.value !== 'string') return expr;
    const ms = parseTimestamp(expr.value);
    if (ms === undefined) {
      this.error(this.offsets.get(expr) ?? 0, `"${expr.value}" is not a timestamp`);
      return nullLiteral();
    }
    const literal: Expr = { kind: 'literal', value: ms, type: 'timestamp' };
    this.offsets.set(literal, this.offsets.get(expr) ?? 0);
    return literal;
  }
}

function numberLiteral(value: number): Expr | undefined {
  if (!Number.isFinite(value)) return undefined;
  if (!Number.isInteger(value)) return { kind: 'literal', value, type: 'double' };
  return { kind: 'literal', value, type: Math.abs(value) <= 2147483647 ? 'int' : 'long' };
}

/** node-sql-parser keeps quotes doubled/escaped inside string literals. */
function unquote(raw: string, type: string): string {
  const quote = type === 'double_quote_string' ? '"' : "'";
  return raw
    .split(quote + quote)
    .join(quote)
    .split(`\\${quote}`)
    .join(quote);
}
