// Type rules for plan expressions, following Spark's implicit widening where it is unambiguous.
import type { ColumnType } from '../types';
import type { ArithmeticOp, ExprType } from './expr';

export function isNumeric(type: ExprType): boolean {
  return type === 'int' || type === 'long' || type === 'double' || type === 'null';
}

/** Result type of an arithmetic operator, or undefined when the operands are not numbers. */
export function arithmeticType(op: ArithmeticOp, left: ExprType, right: ExprType): ExprType | undefined {
  if (!isNumeric(left) || !isNumeric(right)) return undefined;
  if (op === '/') return 'double'; // Spark: `/` is always fractional division
  if (left === 'double' || right === 'double') return 'double';
  if (left === 'long' || right === 'long') return 'long';
  if (left === 'null') return right;
  return left === 'int' || right === 'int' ? 'int' : 'null';
}

export function comparable(left: ExprType, right: ExprType): boolean {
  if (left === 'null' || right === 'null' || left === right) return true;
  return isNumeric(left) && isNumeric(right);
}

/** Output columns cannot be of the NULL type; Spark would write them as strings too. */
export function outputType(type: ExprType): ColumnType {
  return type === 'null' ? 'string' : type;
}

/** CAST target names (mysql grammar, after Spark names were rewritten) → column types. */
export const CAST_TYPES: Record<string, ColumnType> = {
  VARCHAR: 'string',
  CHAR: 'string',
  TEXT: 'string',
  BIGINT: 'long',
  SIGNED: 'long',
  UNSIGNED: 'long',
  INT: 'int',
  INTEGER: 'int',
  SMALLINT: 'int',
  TINYINT: 'int',
  MEDIUMINT: 'int',
  DOUBLE: 'double',
  FLOAT: 'double',
  DECIMAL: 'double',
  NUMERIC: 'double',
  REAL: 'double',
  BOOLEAN: 'boolean',
  BOOL: 'boolean',
  TIMESTAMP: 'timestamp',
  DATETIME: 'timestamp',
};
