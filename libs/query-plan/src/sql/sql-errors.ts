// An SQL problem as a SpecError: positioned in the spec file, with the SQL-relative position in the message.
import type { SpecDocument } from '../spec/spec-document';
import type { SpecError } from '../types';
import { lineColumn } from './sql-text';

export function sqlSpecError(
  document: SpecDocument,
  sql: string,
  offset: number,
  message: string,
): SpecError {
  const inSql = lineColumn(sql, offset);
  return {
    path: 'sql',
    ...document.sqlPosition(offset),
    message: `${message} (SQL line ${inSql.line}, column ${inSql.column})`,
  };
}
