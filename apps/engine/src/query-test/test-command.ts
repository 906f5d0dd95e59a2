// `engine test --spec F --input in.jsonl --expect out.jsonl [--keep-checkpoint]`: runs a query
// on test input with no broker and compares its output per batch with the expected file.
// Exit 0: equal. Exit 1: different (a diff on stdout), a bad file (FILE:LINE: reason), a spec
// that does not compile (FILE:LINE:COL) or a query that failed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { compileSpec, formatErrors, type Row } from '@sluice/query-plan';
import { compareOutput } from './compare-output';
import { runQueryTest } from './query-test-run';
import { parseTableFile, parseTableFlag } from './table-fixture';
import { MAX_TEST_FILE_BYTES, parseExpectFile, parseInputFile, TestFileError } from './test-files';

export const TEST_USAGE = `  test --spec FILE --input IN.jsonl --expect OUT.jsonl [--table NAME=ROWS.jsonl] [--keep-checkpoint]
      run the query on IN with no broker (in-memory source and sink, checkpoint in a temp
      directory); input batches end at "# batch", "# watermark <ts>" (also checks the watermark)
      or before "# restart" (recovers from the checkpoint); "# source NAME" sends the records
      after it to that source (for two-source queries); compare each batch's output with
      OUT (batches end at "# batch"); --table gives a joined table's rows (one JSON object a
      line) in place of its PostgreSQL table; exit 0 equal, 1 different (diff printed) or bad input`;

export interface TestIo {
  readSpec(file: string): string;
  stdout(text: string): void;
  stderr(text: string): void;
}

function readBounded(file: string): Buffer {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch (err) {
    throw new TestFileError(
      file,
      undefined,
      `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  if (size > MAX_TEST_FILE_BYTES)
    throw new TestFileError(file, undefined, `larger than ${MAX_TEST_FILE_BYTES} bytes`);
  return fs.readFileSync(file);
}

export async function testCommand(argv: string[], io: TestIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      spec: { type: 'string' },
      input: { type: 'string' },
      expect: { type: 'string' },
      'keep-checkpoint': { type: 'boolean', default: false },
      table: { type: 'string', multiple: true },
    },
    strict: true,
  });
  if (!values.spec || !values.input || !values.expect)
    throw new Error('test: --spec FILE, --input FILE and --expect FILE are required');
  const compiled = compileSpec(io.readSpec(values.spec), values.spec);
  if (!compiled.ok) {
    io.stderr(`${formatErrors(compiled.errors, values.spec)}\n`);
    return 1;
  }
  let input;
  let expected;
  const tables = new Map<string, Row[]>();
  try {
    input = parseInputFile(values.input, readBounded(values.input));
    expected = parseExpectFile(values.expect, readBounded(values.expect));
    for (const flag of values.table ?? []) {
      const [name, file] = parseTableFlag(flag);
      if (!compiled.spec.tables?.[name])
        throw new TestFileError(file, undefined, `--table ${name}: the spec declares no table "${name}"`);
      tables.set(name, parseTableFile(file, readBounded(file)));
    }
  } catch (err) {
    if (!(err instanceof TestFileError)) throw err;
    io.stderr(`${err.message}\n`);
    return 1;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-engine-test-'));
  // The working folder (LMDB state) beside the checkpoint, never in it.
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-engine-test-work-'));
  let result;
  try {
    result = await runQueryTest({
      compiled,
      specFile: values.spec,
      batches: input,
      checkpointDir: dir,
      workDir,
      tables,
      progress: (m) => io.stderr(`${m}\n`),
    });
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
    if (values['keep-checkpoint']) io.stderr(`checkpoint kept in ${dir}\n`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
  for (const d of result.deadLetters)
    io.stderr(
      `dead letter in batch ${d.batch}: ${d.line !== undefined ? `${values.input}:${d.line}` : 'an aggregated row'}: ${d.reason}\n`,
    );
  const comparison = compareOutput({
    input,
    produced: result.produced,
    expected,
    expectFile: values.expect,
  });
  const rows = result.produced.reduce((n, b) => n + b.rows.length, 0);
  if (comparison.equal) {
    io.stdout(
      `PASS ${values.spec}: ${result.produced.length} batch(es), ${rows} row(s) as in ${values.expect}\n`,
    );
    return 0;
  }
  io.stdout(
    `FAIL ${values.spec}: the output differs from ${values.expect} (- expected, not produced; + produced, not expected)\n${comparison.lines.join('\n')}\n`,
  );
  return 1;
}
