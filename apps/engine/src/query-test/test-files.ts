// The two files of `engine test`: the input (record values, one a line, grouped into batches by
// marker lines) and the expected output (JSON rows, one a line, batches separated by `# batch`).
// Both are parsed whole before anything runs; any line the harness cannot use is an error
// naming FILE:LINE, never a silently skipped line.

/** Bounds on what the harness reads (a test file is small; these stop a wrong path early). */
export const MAX_TEST_FILE_BYTES = 64 * 1024 * 1024;
export const MAX_TEST_LINE_BYTES = 1024 * 1024;
export const MAX_TEST_BATCHES = 10_000;

export class TestFileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    reason: string,
  ) {
    super(line === undefined ? `${file}: ${reason}` : `${file}:${line}: ${reason}`);
    this.name = 'TestFileError';
  }
}

export interface InputRecord {
  /** 1-based line in the input file. */
  line: number;
  /** The record's value exactly as a producer would send it (JSON text, CSV, …). */
  value: string;
  /** The source it is for (`# source NAME`); undefined: the spec's only source. */
  source?: string;
}

export interface InputBatch {
  records: InputRecord[];
  /** The line that closed the batch (the end of the file: undefined). */
  closedAt: number | undefined;
  /** `# watermark <ts>`: the query's watermark expected once the batch has run (epoch ms). */
  expectWatermarkMs?: number;
  /** `# restart` after this batch: stop the query and recover it from the checkpoint. */
  restartAfter: boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Splits a file into lines (LF or CRLF), checking its encoding and sizes. */
function linesOf(file: string, data: Buffer): string[] {
  if (data.length > MAX_TEST_FILE_BYTES)
    throw new TestFileError(file, undefined, `larger than ${MAX_TEST_FILE_BYTES} bytes`);
  let text: string;
  try {
    text = utf8.decode(data);
  } catch {
    // Name the first line that does not decode.
    let start = 0;
    for (let n = 1; start <= data.length; n++) {
      const end = data.indexOf(0x0a, start) < 0 ? data.length : data.indexOf(0x0a, start);
      try {
        utf8.decode(data.subarray(start, end));
      } catch {
        throw new TestFileError(file, n, 'not valid UTF-8');
      }
      start = end + 1;
    }
    throw new TestFileError(file, undefined, 'not valid UTF-8');
  }
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.map((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (Buffer.byteLength(line, 'utf8') > MAX_TEST_LINE_BYTES)
      throw new TestFileError(file, i + 1, `line longer than ${MAX_TEST_LINE_BYTES} bytes`);
    return line;
  });
}

/** `# watermark` takes an ISO-8601 timestamp with a zone, or epoch milliseconds. */
export function parseTimestamp(text: string): number | undefined {
  if (/^\d{1,15}$/.test(text)) return Number(text);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}

const MARKER = /^#\s*(\S+)\s*(.*)$/;

/**
 * Input: every line that is not blank and does not start with `#` is one record. `# source NAME`
 * sends the records after it to that source (for queries reading two). Markers:
 * `# batch` closes a batch (an empty one too); `# watermark <ts>` closes a batch and expects
 * the watermark <ts> after it; `# restart` closes the pending records as a batch (if any) and
 * restarts the query from its checkpoint; `#` followed by a space and anything else is a comment.
 */
export function parseInputFile(file: string, data: Buffer): InputBatch[] {
  const batches: InputBatch[] = [];
  let records: InputRecord[] = [];
  let source: string | undefined;
  const close = (closedAt: number | undefined, extra: Partial<InputBatch> = {}): void => {
    if (batches.length >= MAX_TEST_BATCHES)
      throw new TestFileError(file, closedAt, `more than ${MAX_TEST_BATCHES} batches`);
    batches.push({ records, closedAt, restartAfter: false, ...extra });
    records = [];
  };
  linesOf(file, data).forEach((line, i) => {
    const n = i + 1;
    if (line.trim() === '') return;
    if (!line.startsWith('#')) {
      records.push(source === undefined ? { line: n, value: line } : { line: n, value: line, source });
      return;
    }
    const m = MARKER.exec(line);
    const word = m?.[1] ?? '';
    const arg = (m?.[2] ?? '').trim();
    if (word === 'batch') {
      if (arg) throw new TestFileError(file, n, `"# batch" takes no argument (got "${arg}")`);
      close(n);
    } else if (word === 'watermark') {
      const ms = parseTimestamp(arg);
      if (ms === undefined)
        throw new TestFileError(
          file,
          n,
          `"# watermark" needs a timestamp (ISO-8601 with a zone, or epoch milliseconds), got "${arg}"`,
        );
      close(n, { expectWatermarkMs: ms });
    } else if (word === 'source') {
      // Records below go to this source (a query reading two, such as a stream–stream join).
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(arg))
        throw new TestFileError(file, n, `"# source" needs a source name, got "${arg}"`);
      source = arg;
    } else if (word === 'restart') {
      if (arg) throw new TestFileError(file, n, `"# restart" takes no argument (got "${arg}")`);
      if (records.length > 0) close(n);
      const last = batches.at(-1);
      if (!last) throw new TestFileError(file, n, '"# restart" before any batch has run');
      last.restartAfter = true;
    } else if (line.startsWith('# ') || line === '#') {
      // A comment: "# " followed by anything that is not a marker word.
      if (/^#\s*(batch|watermark|restart|source)\b/i.test(line))
        throw new TestFileError(file, n, `malformed marker "${line}"`);
    } else {
      throw new TestFileError(
        file,
        n,
        `unknown marker "${line}" (markers: "# batch", "# watermark <ts>", "# restart", "# source <name>"; comments start with "# ")`,
      );
    }
  });
  if (records.length > 0) close(undefined);
  return batches;
}

export interface ExpectedBatch {
  /** Line of the batch's first row, or of its closing `# batch`. */
  line: number;
  rows: Array<{ line: number; row: Record<string, unknown> }>;
}

/**
 * Expected output: one JSON object per line (a row as the Kafka sink would write it: timestamps
 * as ISO-8601 strings); `# batch` ends the rows of one batch. `# ` lines are comments.
 */
export function parseExpectFile(file: string, data: Buffer): ExpectedBatch[] {
  const batches: ExpectedBatch[] = [];
  let current: ExpectedBatch = { line: 1, rows: [] };
  linesOf(file, data).forEach((line, i) => {
    const n = i + 1;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const m = MARKER.exec(line);
      if (m?.[1] === 'batch' && !m[2]?.trim()) {
        if (current.rows.length === 0) current.line = n;
        batches.push(current);
        if (batches.length > MAX_TEST_BATCHES)
          throw new TestFileError(file, n, `more than ${MAX_TEST_BATCHES} batches`);
        current = { line: n + 1, rows: [] };
        return;
      }
      if (line.startsWith('# ') || line === '#') return;
      throw new TestFileError(file, n, `unknown marker "${line}" (the expected output knows "# batch")`);
    }
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (err) {
      throw new TestFileError(file, n, `not JSON: ${(err as Error).message}`);
    }
    if (row === null || typeof row !== 'object' || Array.isArray(row))
      throw new TestFileError(file, n, 'an expected row is a JSON object');
    current.rows.push({ line: n, row: row as Record<string, unknown> });
  });
  // Rows after the last `# batch` are one more batch; a file ending in `# batch` has none.
  if (current.rows.length > 0) batches.push(current);
  return batches;
}
