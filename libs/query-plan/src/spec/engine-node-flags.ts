// The node flags an engine process is started with, decided by its spec: wherever an engine is
// spawned (the local runtime, the Kubernetes pod's entrypoint, bench:state's workers) reads them
// from here, so that every start of one query gets the same command line.
import { SpecDocument } from './spec-document';

/**
 * Given to engines whose spec runs the `lmdb` state store. V8 lets its old generation grow to up
 * to 4× what survived the last full collection before it collects again; an lmdb engine promotes
 * each batch's open changes, which die at commit, so at 10 M keys its heap held ~225 MB for ~55 MB
 * live — most of its anonymous RSS, against a goal of ≤ 600 MB peak (issue 20 §3). At 30 % growth
 * it collects more often on a heap that stays small (BENCHMARKS.md, "State store").
 *
 * On the command line, never set at run time (`v8.setFlagsFromString`): a flag changed after
 * start-up changes V8's flag hash, so the code cache the engine launcher writes is rejected at the
 * next start and rewritten at every start (reverted in 3e72248). A flag on the command line is in
 * `process.execArgv`, which names the launcher's cache (launch/code-cache.ts runtimeTag): an lmdb
 * engine has a cache of its own, made and used under the same flags.
 *
 * Node 20's V8 knows it; a node that does not refuses to start ("bad option", exit 9), so the
 * spawners give it only to a node that accepts it (control-plane runtime/engine-node-flags.ts,
 * docker/sluice-entrypoint.sh).
 */
export const LMDB_ENGINE_NODE_FLAGS: readonly string[] = ['--heap-growing-percent=30'];

/** The node flags of an engine running `spec` (a raw or a stored, normalised spec). */
export function engineNodeFlags(spec: unknown): readonly string[] {
  const options = (spec as { options?: { stateStore?: unknown } } | null)?.options;
  return options?.stateStore === 'lmdb' ? LMDB_ENGINE_NODE_FLAGS : [];
}

/**
 * The node flags of an engine running the spec `text`. A text that does not parse gets none: the
 * engine reports its errors itself at start.
 */
export function engineNodeFlagsOfText(text: string): readonly string[] {
  const parsed = SpecDocument.parse(text);
  return parsed.ok ? engineNodeFlags(parsed.value) : [];
}
