// Pure rendering: tables, spec errors with a caret, operation steps, compatibility reports.
import { describe, expect, it } from 'vitest';
import type { Operation } from '@sluice/contracts';
import { progressKey, SeenKeys } from '../src/api/progress-tail';
import { renderCompatibility } from '../src/output/compatibility';
import { renderSpecErrors } from '../src/output/spec-errors';
import { changeLines, createStepDisplay, stepLines } from '../src/output/step-display';
import { cellText, renderTable } from '../src/output/table';

describe('renderTable', () => {
  it('pads columns to the widest cell, right-aligns numbers and shows missing values as -', () => {
    const text = renderTable(
      [
        { name: 'clicks', n: 2, at: null },
        { name: 'a', n: 10, at: '2026' },
      ],
      [
        { header: 'name', value: (r) => r.name },
        { header: 'n', value: (r) => r.n, right: true },
        { header: 'at', value: (r) => r.at },
      ],
    );
    expect(text).toBe(['NAME     N  AT', 'clicks   2  -', 'a       10  2026', ''].join('\n'));
  });

  it('flattens newlines and control characters and caps long cells', () => {
    expect(cellText('a\nb\u001b[2Jc')).toBe('a b?[2Jc');
    const long = cellText('x'.repeat(200));
    expect(long).toHaveLength(80);
    expect(long.endsWith('…')).toBe(true);
  });
});

describe('renderSpecErrors', () => {
  const text = ['name: q', 'sql: SELECT amout FROM events', ''].join('\n');

  it('prints FILE:LINE:COL, the source line and a caret under the column', () => {
    const out = renderSpecErrors('q.yaml', text, [
      { path: 'sql', message: 'unknown column "amout"', line: 2, column: 13 },
    ]);
    expect(out.split('\n')).toEqual([
      'q.yaml:2:13 sql: unknown column "amout"',
      '  sql: SELECT amout FROM events',
      `  ${' '.repeat(12)}^`, // under the "a" of amout, column 13
      '',
    ]);
  });

  it('sorts errors by position and prints an error without a position alone', () => {
    const out = renderSpecErrors('q.yaml', text, [
      { message: 'second', line: 2, column: 1 },
      { message: 'first', line: 1, column: 1 },
      { message: 'whole spec' },
    ]);
    const heads = out.split('\n').filter((l) => !l.startsWith('  '));
    expect(heads).toEqual(['q.yaml whole spec', 'q.yaml:1:1 first', 'q.yaml:2:1 second', '']);
  });

  it('cuts a very long line around the column, keeping the caret on the character', () => {
    const line = `${'a'.repeat(300)}X${'b'.repeat(300)}`;
    const [, source, caret] = renderSpecErrors('q.yaml', line, [
      { message: 'm', line: 1, column: 301 },
    ]).split('\n');
    expect(source!.length).toBeLessThan(130);
    expect(source![caret!.indexOf('^')]).toBe('X');
  });
});

const op = (state: Operation['state'], steps: Operation['steps']): Operation => ({
  id: '0123456789abcdef',
  queryId: null,
  type: 'scale',
  state,
  progress: 50,
  steps,
  params: {},
  error: null,
  requestedBy: null,
  createdAt: '2026-01-01T00:00:00Z',
  finishedAt: null,
});

describe('operation steps', () => {
  it('marks done, running, pending and failed steps on a terminal', () => {
    const lines = stepLines(
      op('RUNNING', [
        { name: 'a', state: 'done' },
        { name: 'b', state: 'running', message: 'waiting' },
        { name: 'c', state: 'pending' },
      ]),
      0,
    );
    expect(lines).toEqual(['scale 01234567  running  50%', '  ✓ a', '  ⠋ b — waiting', '  · c']);
  });

  it('prints one plain line per change: start first, steps, end last', () => {
    const first = op('RUNNING', [
      { name: 'a', state: 'running' },
      { name: 'b', state: 'pending' },
    ]);
    const end = op('SUCCEEDED', [
      { name: 'a', state: 'done' },
      { name: 'b', state: 'done' },
    ]);
    expect(changeLines(null, first)).toEqual(['scale 01234567: running', 'scale 01234567: a: running']);
    expect(changeLines(first, first)).toEqual([]);
    expect(changeLines(first, end)).toEqual([
      'scale 01234567: a: done',
      'scale 01234567: b: done',
      'scale 01234567: succeeded',
    ]);
  });
});

describe('renderCompatibility', () => {
  it('leads with the verdict and lists every change', () => {
    const out = renderCompatibility(3, {
      against: 2,
      compatible: false,
      changes: [
        { kind: 'window.size', severity: 'incompatible', path: 'sql', message: 'window 1 min → 5 min' },
      ],
    });
    expect(out.split('\n')[0]).toBe(
      'version 3 against version 2: INCOMPATIBLE: it cannot resume from the checkpoint (strategy new-checkpoint starts over)',
    );
    expect(out).toMatch(/incompatible\s+window\.size\s+sql\s+window 1 min → 5 min/);
  });
});

describe('progress tail de-duplication', () => {
  it('lets each event through once, whichever source brings it, and forgets the oldest keys', () => {
    const seen = new SeenKeys(2);
    const p = { runId: 'r', batchId: 3, timestamp: 't', numInputRows: 0, sluice: { instance: 'q-0' } };
    expect(seen.add(progressKey(p))).toBe(true);
    expect(seen.add(progressKey({ ...p }))).toBe(false);
    expect(seen.add(progressKey({ ...p, sluice: { instance: 'q-1' } }))).toBe(true);
    expect(seen.add('x')).toBe(true); // the first key is forgotten now
    expect(seen.add(progressKey(p))).toBe(true);
  });
});

describe('step display', () => {
  it('on a terminal, redraws the steps in place: cursor up over the last drawing, clear, draw', () => {
    let out = '';
    const display = createStepDisplay((t) => (out += t), true);
    const running = op('RUNNING', [{ name: 'a', state: 'running' }]);
    display.update(running);
    expect(out).toBe('scale 01234567  running  50%\n  ⠋ a\n');
    out = '';
    display.update({ ...running, state: 'SUCCEEDED', progress: 100, steps: [{ name: 'a', state: 'done' }] });
    expect(out).toBe('\x1b[2A\r\x1b[Jscale 01234567  succeeded  100%\n  ✓ a\n');
  });

  it('elsewhere, writes plain lines with no control characters', () => {
    let out = '';
    const display = createStepDisplay((t) => (out += t), false);
    display.update(op('RUNNING', [{ name: 'a', state: 'running' }]));
    display.update(op('SUCCEEDED', [{ name: 'a', state: 'done' }]));
    expect(out).toBe(
      'scale 01234567: running\nscale 01234567: a: running\nscale 01234567: a: done\nscale 01234567: succeeded\n',
    );
  });
});
