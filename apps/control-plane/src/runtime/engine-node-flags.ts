// Puts a spec's engine node flags (@sluice/query-plan engineNodeFlags: `--heap-growing-percent`
// for the lmdb state store, which says why) on an engine's command line, where V8 reads them at
// start-up and the launcher's code cache is named by them. Only for a node that accepts them: an
// option node's V8 does not know makes node refuse to start ("bad option", exit 9), and a flag
// that only bounds memory must never keep an engine from starting.
import { execFile } from 'node:child_process';
import path from 'node:path';

/** How long the probe may take (a node start, ~0.1 s idle; seconds on a loaded box). */
const PROBE_TIMEOUT_MS = 30_000;

/** Answers by node executable and flags: one probe per control plane, not one per start. */
const accepted = new Map<string, Promise<boolean>>();

function probe(node: string, flags: readonly string[]): Promise<boolean | 'unknown'> {
  return new Promise((resolve) => {
    execFile(node, [...flags, '-e', ''], { timeout: PROBE_TIMEOUT_MS }, (err) => {
      if (!err) return resolve(true);
      // Killed by the timeout (a loaded box) says nothing about the flags: asked again next time.
      resolve((err as { killed?: boolean }).killed ? 'unknown' : false);
    });
  });
}

/** Whether `node` starts with `flags` (run once per executable and flags; a timeout is not cached). */
export async function nodeAcceptsFlags(node: string, flags: readonly string[]): Promise<boolean> {
  if (flags.length === 0) return true;
  const key = JSON.stringify([node, flags]);
  const known = accepted.get(key);
  if (known) return known;
  const answer = probe(node, flags).then((r) => {
    if (r === 'unknown') accepted.delete(key);
    return r === true;
  });
  accepted.set(key, answer);
  return answer;
}

/** Whether a command's program is node itself (its flags go right after it), not a wrapper. */
export function isNodeProgram(program: string): boolean {
  return program === process.execPath || /^node(\.exe)?$/.test(path.basename(program));
}

/**
 * `command` (node, then its script and arguments) with `flags` right after node, when the
 * program is node and accepts them; otherwise `command` as it is (a wrapper such as a
 * SLUICE_ENGINE_COMMAND script cannot be given node flags from outside).
 */
export async function withEngineNodeFlags(
  command: readonly string[],
  flags: readonly string[],
): Promise<string[]> {
  const [program, ...rest] = command;
  if (program === undefined || flags.length === 0 || !isNodeProgram(program)) return [...command];
  if (!(await nodeAcceptsFlags(program, flags))) return [...command];
  return [program, ...flags, ...rest];
}
