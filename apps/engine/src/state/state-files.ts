// The checkpoint's state files, shared by every state store provider (so a query can switch
// provider across an upgrade: both read and write exactly these files).
//   <v>.delta     {"puts":[[key,value],…],"removes":[key,…]}          one batch's changes
//   <v>.snapshot  {"entries":[\n[key,value],\n[key,value]\n]}          the whole state at v
// A snapshot has one entry per line, so it is written and read as a stream (10 million keys
// never need to be in memory at once) and is still one JSON document; a snapshot written on one
// line (before streaming) is read too.
import { CheckpointCorruptError } from '../checkpoint/checksum-frame';
import {
  StateFileMissingError,
  type CheckpointStore,
  type StateFileRef,
} from '../checkpoint/checkpoint-store';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface DeltaFile {
  puts: Array<[string, JsonValue]>;
  removes: string[];
}

const SNAPSHOT_OPEN = '{"entries":[';
const SNAPSHOT_CLOSE = ']}';
/** Entries per text chunk of a snapshot written (about 64 KB for small values). */
const ENTRIES_PER_CHUNK = 1000;

/** A delta's text from pre-serialised `[key,value]` pairs and keys (each value stringified once). */
export function deltaText(puts: string[], removes: string[]): string {
  return `{"puts":[${puts.join(',')}],"removes":[${removes.join(',')}]}`;
}

function asDelta(raw: unknown, file: string): DeltaFile {
  const d = raw as Partial<DeltaFile> | null;
  if (!d || !Array.isArray(d.puts) || !Array.isArray(d.removes))
    throw new CheckpointCorruptError(file, 'not a state delta');
  return d as DeltaFile;
}

export async function readDelta(
  checkpoint: CheckpointStore,
  task: string,
  operator: string,
  version: number,
): Promise<DeltaFile> {
  const ref: StateFileRef = { version, kind: 'delta' };
  return asDelta(
    await checkpoint.readState(task, operator, ref),
    checkpoint.describeState(task, operator, ref),
  );
}

/** A snapshot's text in chunks, from entries read lazily (a Map, an LMDB read transaction). */
export function* snapshotChunks(entries: Iterable<[string, JsonValue]>): Generator<string> {
  yield `${SNAPSHOT_OPEN}\n`;
  let lines: string[] = [];
  let first = true;
  for (const [k, v] of entries) {
    lines.push(`${first ? '' : ','}${JSON.stringify([k, v])}`);
    first = false;
    if (lines.length >= ENTRIES_PER_CHUNK) {
      yield `${lines.join('\n')}\n`;
      lines = [];
    }
  }
  if (lines.length > 0) yield `${lines.join('\n')}\n`;
  yield SNAPSHOT_CLOSE;
}

function asEntry(raw: unknown, file: string): [string, JsonValue] {
  if (!Array.isArray(raw) || raw.length !== 2 || typeof raw[0] !== 'string')
    throw new CheckpointCorruptError(file, 'a snapshot entry is not [key, value]');
  return raw as [string, JsonValue];
}

function parseLine(line: string, file: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch (err) {
    throw new CheckpointCorruptError(file, `invalid JSON (${(err as Error).message})`);
  }
}

/**
 * A snapshot's entries in batches, streamed. Damage is found at the latest when the iteration
 * ends (a missing closing line, the frame's length or checksum): whatever a consumer applied
 * before then is provisional.
 */
export async function* readSnapshot(
  checkpoint: CheckpointStore,
  task: string,
  operator: string,
  version: number,
): AsyncGenerator<Array<[string, JsonValue]>> {
  const ref: StateFileRef = { version, kind: 'snapshot' };
  const file = checkpoint.describeState(task, operator, ref);
  let state: 'start' | 'entries' | 'closed' = 'start';
  for await (const lines of checkpoint.readStateLines(task, operator, ref)) {
    const batch: Array<[string, JsonValue]> = [];
    for (const line of lines) {
      if (state === 'closed') throw new CheckpointCorruptError(file, 'content after the end of the snapshot');
      if (state === 'start') {
        if (line === SNAPSHOT_OPEN) {
          state = 'entries';
          continue;
        }
        // One-line snapshot (written before snapshots were streamed): the whole document.
        const doc = parseLine(line, file) as { entries?: unknown } | null;
        if (!doc || !Array.isArray(doc.entries))
          throw new CheckpointCorruptError(file, 'not a state snapshot');
        for (const e of doc.entries) batch.push(asEntry(e, file));
        state = 'closed';
        continue;
      }
      if (line === SNAPSHOT_CLOSE) {
        state = 'closed';
        continue;
      }
      const text = line.startsWith(',') ? line.slice(1) : line;
      batch.push(asEntry(parseLine(text, file), file));
    }
    if (batch.length > 0) yield batch;
  }
  if (state !== 'closed') throw new CheckpointCorruptError(file, 'snapshot ends before its closing line');
}

/** Writes `<version>.snapshot` of `entries` as a stream; returns its payload bytes. */
export function writeSnapshot(
  checkpoint: CheckpointStore,
  task: string,
  operator: string,
  version: number,
  entries: Iterable<[string, JsonValue]>,
): Promise<number> {
  return checkpoint.writeStateStream(task, operator, { version, kind: 'snapshot' }, snapshotChunks(entries));
}

/** Files needed to rebuild `version`: the newest snapshot ≤ version and the deltas after it. */
export function restorePlan(files: StateFileRef[], version: number): StateFileRef[] {
  const snapshot = files.filter((f) => f.kind === 'snapshot' && f.version <= version).at(-1);
  const from = snapshot?.version ?? -1;
  const deltas = files.filter((f) => f.kind === 'delta' && f.version > from && f.version <= version);
  return [...(snapshot ? [snapshot] : []), ...deltas];
}

/** Files no restorable version (≥ minVersion) needs: everything older than the base snapshot. */
export function obsoleteFiles(files: StateFileRef[], minVersion: number): StateFileRef[] {
  const base = files.filter((f) => f.kind === 'snapshot' && f.version <= minVersion).at(-1);
  if (!base) return [];
  return files.filter((f) => f.version < base.version || (f.version === base.version && f.kind === 'delta'));
}

/** Where a restore applies the files of its plan, in order. */
export interface RestoreTarget {
  /** A snapshot starts here: everything before it is dropped. */
  clear(): void | Promise<void>;
  put(entries: Array<[string, JsonValue]>): void | Promise<void>;
  remove(keys: string[]): void | Promise<void>;
}

/**
 * Applies the checkpoint's files for `version` to `target` (-1 = empty); returns how many deltas
 * followed the snapshot. Retries when a previous owner's maintenance deletes a listed file
 * between our listing and reading it (it wrote a newer snapshot first; listing again finds it).
 */
export async function restoreVersion(
  checkpoint: CheckpointStore,
  task: string,
  operator: string,
  version: number,
  target: RestoreTarget,
): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const files = version < 0 ? [] : await checkpoint.listState(task, operator);
    const plan = restorePlan(files, version);
    try {
      await target.clear();
      for (const ref of plan) {
        if (ref.kind === 'snapshot') {
          for await (const batch of readSnapshot(checkpoint, task, operator, ref.version))
            await target.put(batch);
        } else {
          const delta = await readDelta(checkpoint, task, operator, ref.version);
          await target.put(delta.puts);
          await target.remove(delta.removes);
        }
      }
      return plan.filter((f) => f.kind === 'delta').length;
    } catch (err) {
      if (!(err instanceof StateFileMissingError) || attempt >= 3) throw err;
    }
  }
}
