// V8's code cache of the engine bundle, stored beside it (issue 20 §5: compiling the 6.9 MB bundle
// was about half of the engine process's own start). Node 20 has no `module.enableCompileCache`,
// so the launcher (launcher.ts) compiles the bundle itself with `vm.Script` and `cachedData`.
//
//   <dir>/engine.<hash>.js.<runtime>.v8cache   MAGIC, sha256 of the payload, payload (V8's data)
//
// The bundle's content hash is in its name, so a cache never meets another bundle; <runtime>
// names node's version, V8's, the architecture and the flags, which V8's own check compares
// too (a mismatch there is a rejected cache, rewritten). The checksum is ours: V8 checks only its
// header and length, and a file truncated or damaged on disk must be ignored, never deserialized.
import { isAscii } from 'node:buffer';
import { createHash } from 'node:crypto';

const MAGIC = Buffer.from('sluice-v8cache-1\n');
const DIGEST_BYTES = 32;

export interface RuntimeIdentity {
  node: string;
  v8: string;
  arch: string;
  execArgv: readonly string[];
}

/** A short name for the runtime a cache was made by (node and V8 versions, architecture, flags). */
export function runtimeTag(r: RuntimeIdentity): string {
  return createHash('sha256')
    .update(JSON.stringify([r.node, r.v8, r.arch, r.execArgv]))
    .digest('hex')
    .slice(0, 12);
}

/** Where the code cache of `bundle` made by runtime `tag` is kept. */
export function codeCacheFile(bundle: string, tag: string): string {
  if (!/^[0-9a-f]{12}$/.test(tag)) throw new Error(`code cache: bad runtime tag "${tag}"`);
  return `${bundle}.${tag}.v8cache`;
}

/**
 * The bundle's text from its bytes. An ASCII file (esbuild escapes other characters, and the
 * engine bundle has no comments) is decoded as latin1: the same string, 3× faster than UTF-8's
 * decoding of 5 MB.
 */
export function bundleText(bytes: Buffer): string {
  return isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
}

const digest = (payload: Uint8Array): Buffer => createHash('sha256').update(payload).digest();

/** The file's content for V8's cached data. */
export function encodeCodeCache(payload: Uint8Array): Buffer {
  return Buffer.concat([MAGIC, digest(payload), payload]);
}

export type DecodedCodeCache = { ok: true; data: Buffer } | { ok: false; reason: string };

/** V8's cached data from a file's content, or why it is not usable (then compile without it). */
export function decodeCodeCache(file: Buffer): DecodedCodeCache {
  const head = MAGIC.length + DIGEST_BYTES;
  if (file.length <= head) return { ok: false, reason: 'too short' };
  if (!file.subarray(0, MAGIC.length).equals(MAGIC)) return { ok: false, reason: 'not a code cache' };
  const data = file.subarray(head);
  if (!digest(data).equals(file.subarray(MAGIC.length, head)))
    return { ok: false, reason: 'checksum mismatch' };
  return { ok: true, data };
}

/**
 * Where the launcher leaves its "write the cache now" function for the engine. A cache written
 * after the first committed batch holds the functions the start-up and a batch compiled too, not
 * only the bundle's top level (V8 includes every function compiled by the time it is made).
 */
const SAVE_CODE_CACHE = Symbol.for('sluice.engine.saveCodeCache');

type Holder = { [SAVE_CODE_CACHE]?: () => void };

/** The launcher: `save` runs at the engine's first committed batch (once). */
export function offerCodeCacheSave(save: () => void): void {
  (globalThis as Holder)[SAVE_CODE_CACHE] = save;
}

/** The engine, after its first committed batch: writes the code cache if the launcher asked for one. */
export function saveCodeCacheIfOffered(): void {
  const holder = globalThis as Holder;
  const save = holder[SAVE_CODE_CACHE];
  delete holder[SAVE_CODE_CACHE];
  save?.();
}
