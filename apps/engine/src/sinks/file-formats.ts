// How the file sink encodes one task's batch: JSON lines (as the Kafka sink's JSON), CSV with a
// header (RFC 4180 quoting), or Parquet through hyparquet-writer (a pure-JS writer: no native
// build, snappy-compressed by default). Timestamps, epoch ms in rows, become ISO-8601 text in JSON
// and CSV and Parquet TIMESTAMP_MILLIS.
import type { FileSinkFormat, Row } from '@sluice/query-plan';
import { toJsonRow, type OutputColumn } from './format-row';

export const FILE_EXTENSIONS: Record<FileSinkFormat, string> = {
  jsonl: 'jsonl',
  csv: 'csv',
  parquet: 'parquet',
};

export async function encodeRows(
  format: FileSinkFormat,
  rows: Row[],
  columns: OutputColumn[],
): Promise<Uint8Array> {
  if (format === 'jsonl')
    return Buffer.from(rows.map((r) => `${JSON.stringify(toJsonRow(r, columns))}\n`).join(''));
  if (format === 'csv') return Buffer.from(toCsv(rows, columns));
  return toParquet(rows, columns);
}

function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const text = typeof v === 'string' ? v : String(v);
  // Quoted when a reader could otherwise split or trim it (RFC 4180 §2.6–2.7).
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function toCsv(rows: Row[], columns: OutputColumn[]): string {
  const lines = [columns.map((c) => csvField(c.name)).join(',')];
  for (const row of rows) {
    const json = toJsonRow(row, columns);
    lines.push(columns.map((c) => csvField(json[c.name])).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

type ParquetType = 'STRING' | 'INT64' | 'INT32' | 'DOUBLE' | 'BOOLEAN' | 'TIMESTAMP';
const PARQUET_TYPES: Record<OutputColumn['type'], ParquetType> = {
  string: 'STRING',
  long: 'INT64',
  int: 'INT32',
  double: 'DOUBLE',
  boolean: 'BOOLEAN',
  timestamp: 'TIMESTAMP',
};

function parquetValue(type: ParquetType, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  switch (type) {
    case 'INT64':
      return typeof v === 'bigint' ? v : BigInt(Math.trunc(Number(v)));
    case 'TIMESTAMP':
      return new Date(Number(v));
    case 'STRING':
      return typeof v === 'string' ? v : JSON.stringify(v);
    default:
      return v;
  }
}

async function toParquet(rows: Row[], columns: OutputColumn[]): Promise<Uint8Array> {
  // hyparquet-writer is published as an ES module only.
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  const columnData = columns.map((c) => {
    const type = PARQUET_TYPES[c.type];
    return { name: c.name, type, data: rows.map((r) => parquetValue(type, r[c.name])) };
  });
  return new Uint8Array(parquetWriteBuffer({ columnData } as Parameters<typeof parquetWriteBuffer>[0]));
}
