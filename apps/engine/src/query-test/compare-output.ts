// Compares what a query produced, batch by batch, with the expected output. Rows of one batch
// are compared as a multiset (as Spark's CheckAnswer does): the order of rows within a batch
// depends on shuffle partitions, not on the query. The report names the batch, its input lines
// and the expected file's lines, with `-` for a missing row and `+` for an unexpected one.
import type { ExpectedBatch, InputBatch } from './test-files';

export interface ProducedBatch {
  rows: Array<Record<string, unknown>>;
  /** The query's watermark after the batch (undefined: the query has none). */
  watermarkMs: number | undefined;
}

export interface Comparison {
  equal: boolean;
  /** One line per difference, ready to print. */
  lines: string[];
}

/** JSON with object keys sorted, so that key order never makes two equal rows differ. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const iso = (ms: number | undefined): string => (ms === undefined ? 'none' : new Date(ms).toISOString());

function inputLines(batch: InputBatch | undefined): string {
  if (!batch) return '';
  const first = batch.records[0]?.line;
  const last = batch.records.at(-1)?.line;
  if (first === undefined)
    return batch.closedAt !== undefined ? ` (no input, closed at line ${batch.closedAt})` : '';
  return first === last ? ` (input line ${first})` : ` (input lines ${first}-${last})`;
}

export function compareOutput(args: {
  input: InputBatch[];
  produced: ProducedBatch[];
  expected: ExpectedBatch[];
  expectFile: string;
}): Comparison {
  const { input, produced, expected, expectFile } = args;
  const lines: string[] = [];
  if (expected.length !== produced.length)
    lines.push(
      `${expectFile}: ${expected.length} expected batch(es), the input has ${produced.length} (batches end at "# batch" lines)`,
    );
  const n = Math.max(produced.length, expected.length);
  for (let b = 0; b < n; b++) {
    const got = produced[b]?.rows ?? [];
    const want = expected[b]?.rows ?? [];
    const counts = new Map<string, number>();
    for (const row of got) {
      const k = canonicalJson(row);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    const missing: string[] = [];
    for (const { line, row } of want) {
      const k = canonicalJson(row);
      const c = counts.get(k) ?? 0;
      if (c > 0) counts.set(k, c - 1);
      else missing.push(`  - ${k}   (${expectFile}:${line})`);
    }
    const unexpected: string[] = [];
    for (const [k, c] of counts) for (let i = 0; i < c; i++) unexpected.push(`  + ${k}`);
    const wm = input[b]?.expectWatermarkMs;
    const gotWm = produced[b]?.watermarkMs;
    const wmWrong = wm !== undefined && b < produced.length && gotWm !== wm;
    if (missing.length === 0 && unexpected.length === 0 && !wmWrong) continue;
    lines.push(`batch ${b}${inputLines(input[b])}:`);
    lines.push(...missing, ...unexpected);
    if (wmWrong) lines.push(`  watermark: expected ${iso(wm)}, got ${iso(gotWm)}`);
  }
  return { equal: lines.length === 0, lines };
}
