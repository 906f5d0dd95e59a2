import type { Operation } from '@sluice/contracts';
// How an operation's steps look while it runs. On a terminal: one line per step, redrawn in place
// (✓ done, spinner running, · pending, ✗ failed). Elsewhere (CI logs, pipes): one plain line per
// change, so logs stay readable and nothing is printed twice.

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const MARK = { done: '✓', failed: '✗', pending: '·' } as const;

/** The lines of the terminal display for one poll (`frame` turns the spinner). */
export function stepLines(op: Operation, frame: number): string[] {
  const head = `${op.type} ${op.id.slice(0, 8)}  ${op.state.toLowerCase()}  ${op.progress}%`;
  const steps = op.steps.map((s) => {
    const mark = s.state === 'running' ? SPINNER[frame % SPINNER.length] : MARK[s.state];
    return `  ${mark} ${s.name}${s.message ? ` — ${s.message}` : ''}`;
  });
  return [head, ...steps];
}

/** Plain lines describing what changed between two polls (`before` null: the first poll). */
export function changeLines(before: Operation | null, op: Operation): string[] {
  const out: string[] = [];
  const prefix = `${op.type} ${op.id.slice(0, 8)}`;
  const ended = op.state === 'SUCCEEDED' || op.state === 'FAILED';
  const stateLine = `${prefix}: ${op.state.toLowerCase()}`;
  // The operation's start before its steps, its end after them.
  if (!ended && (!before || before.state !== op.state)) out.push(stateLine);
  op.steps.forEach((s, i) => {
    const prev = before?.steps[i];
    if (s.state === 'pending' && (!prev || prev.state === 'pending')) return;
    if (prev && prev.state === s.state && prev.message === s.message) return;
    out.push(`${prefix}: ${s.name}: ${s.state}${s.message ? ` — ${s.message}` : ''}`);
  });
  if (ended && before?.state !== op.state) out.push(stateLine);
  return out;
}

export interface StepDisplay {
  update(op: Operation): void;
  /** Leaves the last state on screen and the cursor below it. */
  close(): void;
}

export function createStepDisplay(write: (text: string) => void, tty: boolean): StepDisplay {
  if (!tty) {
    let last: Operation | null = null;
    return {
      update(op) {
        for (const line of changeLines(last, op)) write(`${line}\n`);
        last = op;
      },
      close() {},
    };
  }
  let drawn = 0;
  let frame = 0;
  return {
    update(op) {
      const lines = stepLines(op, frame++);
      // Up to the first line drawn last time, clear to the end of the screen, draw again.
      write(`${drawn ? `\x1b[${drawn}A\r\x1b[J` : ''}${lines.join('\n')}\n`);
      drawn = lines.length;
    },
    close() {
      drawn = 0;
    },
  };
}
