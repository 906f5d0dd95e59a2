// `engine test --table NAME=FILE`: the rows of a stream–static join's table, one JSON object a
// line (blank lines and `#` comments skipped), standing in for the PostgreSQL table. Every line
// that is not a JSON object is an error naming FILE:LINE; values are checked against the table's
// schema when the join indexes them, as rows read from PostgreSQL are.
import type { Row } from '@sluice/query-plan';
import { TestFileError } from './test-files';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function parseTableFile(file: string, data: Buffer): Row[] {
  let text: string;
  try {
    text = utf8.decode(data);
  } catch {
    throw new TestFileError(file, undefined, 'not valid UTF-8');
  }
  const rows: Row[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new TestFileError(file, i + 1, `not JSON: ${(err as Error).message}`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new TestFileError(file, i + 1, 'a table row must be a JSON object');
    rows.push(value as Row);
  });
  return rows;
}

/** `NAME=FILE` → [name, file]. */
export function parseTableFlag(flag: string): [string, string] {
  const at = flag.indexOf('=');
  if (at <= 0 || at === flag.length - 1)
    throw new Error(
      `test: --table takes NAME=FILE (the table's name under \`tables\` in the spec), got "${flag}"`,
    );
  return [flag.slice(0, at), flag.slice(at + 1)];
}
