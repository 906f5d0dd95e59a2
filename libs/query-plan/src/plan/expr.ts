// Expression tree of the logical plan: plain JSON so plans can be hashed, stored in the
// checkpoint and compared across versions. Every node carries its result type.
import type { ColumnType } from '../types';

/** `null` is the type of a bare NULL literal; it is compatible with every other type. */
export type ExprType = ColumnType | 'null';

export type ArithmeticOp = '+' | '-' | '*' | '/' | '%';
export type ComparisonOp = '=' | '<>' | '<' | '<=' | '>' | '>=';
export type StringFunction = 'lower' | 'upper' | 'concat' | 'substring';
export type AggregateFunction = 'count' | 'sum' | 'min' | 'max' | 'avg';

export type Expr =
  /** A column of the source row. */
  | { kind: 'column'; name: string; type: ColumnType }
  | { kind: 'literal'; value: string | number | boolean | null; type: ExprType }
  | { kind: 'arithmetic'; op: ArithmeticOp; left: Expr; right: Expr; type: ExprType }
  | { kind: 'negate'; arg: Expr; type: ExprType }
  | { kind: 'compare'; op: ComparisonOp; left: Expr; right: Expr; type: 'boolean' }
  | { kind: 'logic'; op: 'and' | 'or'; left: Expr; right: Expr; type: 'boolean' }
  | { kind: 'not'; arg: Expr; type: 'boolean' }
  | { kind: 'isNull'; arg: Expr; negated: boolean; type: 'boolean' }
  | { kind: 'like'; arg: Expr; pattern: Expr; negated: boolean; type: 'boolean' }
  | { kind: 'in'; arg: Expr; list: Expr[]; negated: boolean; type: 'boolean' }
  | { kind: 'between'; arg: Expr; low: Expr; high: Expr; negated: boolean; type: 'boolean' }
  | { kind: 'call'; fn: StringFunction; args: Expr[]; type: 'string' }
  | { kind: 'cast'; arg: Expr; type: ColumnType }
  /** After an aggregation: the value of grouping key `name` (a key of the group's values). */
  | { kind: 'groupKey'; name: string; type: ExprType }
  /** After an aggregation: the final value of aggregate number `index`. */
  | { kind: 'aggregate'; index: number; type: ExprType }
  /**
   * After a windowed aggregation: `window.start` / `window.end`; with `session`, after a
   * session-window aggregation: `session_window.start` / `session_window.end`.
   */
  | { kind: 'windowBound'; bound: 'start' | 'end'; session?: true; type: 'timestamp' };

export interface AggregateCall {
  fn: AggregateFunction;
  /** Absent for count(*). */
  arg?: Expr;
  type: ExprType;
}
