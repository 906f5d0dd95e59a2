// Value conversions shared by record decoding, CAST and literal coercion. Timestamps are epoch
// milliseconds throughout; text timestamps without a zone are read as UTC.
import type { ColumnType } from '../types';

const LOCAL_DATE_TIME = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?))?$/;

/** Epoch milliseconds from ISO-8601 / 'yyyy-MM-dd HH:mm:ss[.SSS]' text or a number of milliseconds. */
export function parseTimestamp(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^-?\d+(\.\d+)?$/.test(trimmed)) return Math.floor(Number(trimmed));
  const local = LOCAL_DATE_TIME.exec(trimmed);
  const iso = local ? `${local[1]}T${local[2] ?? '00:00:00'}Z` : trimmed;
  // Date.parse accepts at most millisecond precision; cut longer fractions.
  const ms = Date.parse(iso.replace(/(\.\d{3})\d+/, '$1'));
  return Number.isNaN(ms) ? undefined : ms;
}

export type Coerced = { ok: true; value: unknown } | { ok: false; expected: string };

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;

/** A JSON value as a column of `type`; no lossy conversions (a decoded record is either right or a bad record). */
export function coerceJsonValue(type: ColumnType, value: unknown): Coerced {
  switch (type) {
    case 'string':
      // Spark's JSON reader keeps the text of scalar values in string columns.
      return typeof value === 'string'
        ? ok(value)
        : typeof value === 'number' || typeof value === 'boolean'
          ? ok(String(value))
          : bad('a string');
    case 'long':
      return typeof value === 'number' && Number.isSafeInteger(value) ? ok(value) : bad('an integer');
    case 'int':
      return typeof value === 'number' && Number.isInteger(value) && value >= INT_MIN && value <= INT_MAX
        ? ok(value)
        : bad('a 32-bit integer');
    case 'double':
      return typeof value === 'number' && Number.isFinite(value) ? ok(value) : bad('a number');
    case 'boolean':
      return typeof value === 'boolean' ? ok(value) : bad('true or false');
    case 'timestamp':
      if (typeof value === 'number' && Number.isFinite(value)) return ok(Math.floor(value));
      return typeof value === 'string'
        ? coerceText('timestamp', value)
        : bad('a timestamp (ISO-8601 text or epoch milliseconds)');
  }
}

/** A text field (CSV) as a column of `type`. */
export function coerceText(type: ColumnType, text: string): Coerced {
  const trimmed = text.trim();
  switch (type) {
    case 'string':
      return ok(text);
    case 'long':
    case 'int': {
      const n = /^[-+]?\d+$/.test(trimmed) ? Number(trimmed) : NaN;
      return coerceJsonValue(type, n);
    }
    case 'double': {
      const n = trimmed === '' ? NaN : Number(trimmed);
      return Number.isFinite(n) ? ok(n) : bad('a number');
    }
    case 'boolean': {
      const lower = trimmed.toLowerCase();
      return lower === 'true' ? ok(true) : lower === 'false' ? ok(false) : bad('true or false');
    }
    case 'timestamp': {
      const ms = trimmed === '' ? undefined : parseTimestamp(trimmed);
      return ms === undefined ? bad('a timestamp (ISO-8601 text or epoch milliseconds)') : ok(ms);
    }
  }
}

/**
 * CAST with Spark's non-ANSI semantics: a value that does not convert becomes NULL. As in Spark,
 * numbers ↔ timestamps count *seconds* (CAST(ts AS LONG) is epoch seconds).
 */
export function castValue(value: unknown, to: ColumnType, fromTimestamp: boolean): unknown {
  if (value === null || value === undefined) return null;
  if (fromTimestamp && typeof value === 'number') {
    if (to === 'timestamp') return value;
    if (to === 'string') return new Date(value).toISOString();
    if (to === 'double') return value / 1000;
    if (to === 'long' || to === 'int') return Math.floor(value / 1000);
    return null;
  }
  switch (to) {
    case 'string':
      return String(value);
    case 'long':
    case 'int': {
      const n = toNumber(value);
      if (n === undefined) return null;
      const truncated = Math.trunc(n);
      return to === 'int' && (truncated < INT_MIN || truncated > INT_MAX) ? null : truncated;
    }
    case 'double':
      return toNumber(value) ?? null;
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (typeof value === 'number') return value !== 0;
      return (
        (
          {
            true: true,
            t: true,
            yes: true,
            y: true,
            '1': true,
            false: false,
            f: false,
            no: false,
            n: false,
            '0': false,
          } as Record<string, boolean>
        )[String(value).trim().toLowerCase()] ?? null
      );
    case 'timestamp':
      if (typeof value === 'number') return Math.floor(value * 1000);
      if (typeof value !== 'string') return null;
      return /^\s*-?\d+(\.\d+)?\s*$/.test(value)
        ? Math.floor(Number(value) * 1000)
        : (parseTimestamp(value) ?? null);
  }
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value.trim());
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function ok(value: unknown): Coerced {
  return { ok: true, value };
}

function bad(expected: string): Coerced {
  return { ok: false, expected };
}
