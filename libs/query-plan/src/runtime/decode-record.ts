// Kafka record value → typed row for a source. Unlike Spark (which fails the query or yields
// nulls on malformed input), a record that does not match the declared format and schema is
// rejected with a reason naming the column, so the engine can dead-letter it.
import type { ColumnType, Row, SourceSpec } from '../types';
import { coerceJsonValue, coerceText, type Coerced } from './coerce';
import { parseCsvLine } from './csv';

export type DecodeResult = { ok: true; row: Row } | { ok: false; reason: string };

const columnsCache = new WeakMap<SourceSpec, Array<[string, ColumnType]>>();

export function decodeRecord(source: SourceSpec, value: Buffer | null): DecodeResult {
  if (value === null) return { ok: false, reason: 'record value is null' };
  const text = value.toString('utf8');
  if (source.format === 'raw') return { ok: true, row: { value: text } };
  let columns = columnsCache.get(source);
  if (!columns) {
    columns = Object.entries(source.schema);
    columnsCache.set(source, columns);
  }
  return source.format === 'json' ? decodeJson(text, columns) : decodeCsv(text, columns);
}

function decodeJson(text: string, columns: Array<[string, ColumnType]>): DecodeResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch (error) {
    return { ok: false, reason: `invalid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    return { ok: false, reason: 'expected a JSON object' };
  const record = parsed as Record<string, unknown>;
  const row: Row = {};
  for (const [name, type] of columns) {
    const raw = record[name];
    if (raw === undefined || raw === null)
      return { ok: false, reason: `column "${name}" is ${raw === null ? 'null' : 'missing'}` };
    const coerced = coerceJsonValue(type, raw);
    if (!coerced.ok) return mistyped(name, type, coerced, raw);
    row[name] = coerced.value;
  }
  return { ok: true, row };
}

function decodeCsv(text: string, columns: Array<[string, ColumnType]>): DecodeResult {
  const fields = parseCsvLine(text.replace(/\r?\n$/, ''));
  if (!fields) return { ok: false, reason: 'invalid CSV: unterminated quoted field' };
  if (fields.length !== columns.length) {
    return {
      ok: false,
      reason: `expected ${columns.length} CSV fields (${columns.map(([n]) => n).join(', ')}), got ${fields.length}`,
    };
  }
  const row: Row = {};
  for (const [index, [name, type]] of columns.entries()) {
    const field = fields[index] ?? '';
    const coerced = coerceText(type, field);
    if (!coerced.ok) return mistyped(name, type, coerced, field);
    row[name] = coerced.value;
  }
  return { ok: true, row };
}

function mistyped(
  name: string,
  type: ColumnType,
  coerced: Extract<Coerced, { ok: false }>,
  raw: unknown,
): DecodeResult {
  const shown = JSON.stringify(raw) ?? String(raw);
  return {
    ok: false,
    reason: `column "${name}" (${type}): expected ${coerced.expected}, got ${shown.length > 60 ? `${shown.slice(0, 57)}...` : shown}`,
  };
}
