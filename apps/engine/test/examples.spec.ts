// The operator tests of the engine as `engine test` cases (apps/engine/examples/*): filter and
// projection, a windowed count in update mode across a restart, append-mode windows with
// watermark checks, deduplication across a restart, complete mode, a stream–static join, a stream–stream join
// across a restart, session windows (append with merging across a restart, update),
// dropDuplicatesWithinWatermark across a restart, a stateful function with eventTime timeouts across a
// restart, a file source of CSV lines across a restart. Each runs in-process through
// the command (the CLI process itself is covered by query-test-cli.spec.ts).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { testCommand } from '../src/query-test/test-command';

const EXAMPLES = path.resolve(__dirname, '..', 'examples');
const examples = fs.readdirSync(EXAMPLES).filter((d) => fs.existsSync(path.join(EXAMPLES, d, 'spec.yaml')));

describe('engine examples', () => {
  it('covers the operators', () => {
    expect(examples).toEqual(
      expect.arrayContaining([
        'filter-projection',
        'window-count',
        'append-window',
        'dedup',
        'complete-mode',
        'static-join',
        'stream-join',
        'session-window',
        'session-window-update',
        'dedup-within-watermark',
        'stateful-sessionize',
        'file-source-csv',
      ]),
    );
  });

  it.each(examples)(
    '%s: the output equals expected.jsonl batch by batch',
    async (name) => {
      const out: string[] = [];
      const err: string[] = [];
      const file = (f: string) => path.join(EXAMPLES, name, f);
      // table.<name>.jsonl: the rows of a joined table (--table <name>=FILE).
      const tables = fs
        .readdirSync(path.join(EXAMPLES, name))
        .map((f) => /^table\.(\w+)\.jsonl$/.exec(f)?.[1])
        .filter((t): t is string => t !== undefined)
        .flatMap((table) => ['--table', `${table}=${file(`table.${table}.jsonl`)}`]);
      const code = await testCommand(
        [
          '--spec',
          file('spec.yaml'),
          '--input',
          file('input.jsonl'),
          '--expect',
          file('expected.jsonl'),
          ...tables,
        ],
        {
          readSpec: (f) => fs.readFileSync(f, 'utf8'),
          stdout: (t) => out.push(t),
          stderr: (t) => err.push(t),
        },
      );
      expect(out.join(''), err.join('')).toContain('PASS');
      expect(code).toBe(0);
    },
    60_000,
  );
});
