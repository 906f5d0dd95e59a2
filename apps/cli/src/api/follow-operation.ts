// Waits for an operation to finish, showing its steps. Polls GET /api/v1/operations/:id (a
// missed server-sent event would leave a waiter hanging; a poll cannot). Ctrl-C or the timeout
// stop the waiting only: the operation runs in the control plane and goes on.
import type { Operation, OperationState } from '@sluice/contracts';
import { CliError, EXIT } from '../exit-codes';
import { createStepDisplay } from '../output/step-display';
import type { ApiClient } from './client';

const POLL_MS = 500;
const TERMINAL_STATES: ReadonlySet<OperationState> = new Set(['SUCCEEDED', 'FAILED']);

export interface FollowOptions {
  timeoutMs: number;
  signal: AbortSignal;
  /** Where the progress goes (stderr: stdout stays the command's result, for -o json). */
  write: (text: string) => void;
  tty: boolean;
}

export async function followOperation(
  client: ApiClient,
  first: Operation,
  opts: FollowOptions,
): Promise<Operation> {
  const display = createStepDisplay(opts.write, opts.tty);
  const deadline = Date.now() + opts.timeoutMs;
  const again = `\`sluice operations wait ${first.id}\``;
  let op = first;
  try {
    for (;;) {
      display.update(op);
      if (TERMINAL_STATES.has(op.state)) break;
      if (Date.now() >= deadline)
        throw new CliError(
          `gave up waiting after ${Math.round(opts.timeoutMs / 1000)} s: operation ${op.id} is still ${op.state.toLowerCase()} (it goes on); wait again with ${again}`,
        );
      await sleep(POLL_MS, opts.signal);
      if (opts.signal.aborted) throw interrupted(op, again);
      try {
        op = await client.get<Operation>(`/api/v1/operations/${op.id}`, { signal: opts.signal });
      } catch (e) {
        if (opts.signal.aborted) throw interrupted(op, again);
        throw e;
      }
    }
  } finally {
    display.close();
  }
  if (op.state === 'FAILED') {
    const step = op.steps.find((s) => s.state === 'failed');
    throw new CliError(
      `operation ${op.id} (${op.type}) failed${step ? ` at "${step.name}"` : ''}: ${op.error ?? step?.message ?? 'no reason given'}`,
    );
  }
  return op;
}

function interrupted(op: Operation, again: string): CliError {
  return new CliError(
    `stopped waiting; operation ${op.id} (${op.type}) goes on in the control plane — follow it with ${again}`,
    EXIT.INTERRUPTED,
  );
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
