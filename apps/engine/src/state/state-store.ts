// Versioned key→value state for one (task, operator): Spark's HDFS-backed state store model.
// Version v is the state after batch v. Each commit writes the batch's changes as
// `state/<operator>/<v>.delta`; maintenance (off the hot path) consolidates the newest snapshot and
// the deltas after it into `<v>.snapshot` every `snapshotEvery` deltas and deletes files no
// retained version needs. Restore = newest snapshot ≤ v, then the deltas after it, in order.
import { CheckpointCorruptError } from '../checkpoint/checksum-frame';
import {
  StateFileMissingError,
  type CheckpointStore,
  type StateFileRef,
} from '../checkpoint/checkpoint-store';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface StateStoreOptions {
  /** Consolidate into a snapshot after this many deltas (Spark: minDeltasForSnapshot = 10). */
  snapshotEvery: number;
  /** Versions that must stay restorable (Spark: minBatchesToRetain = 100). */
  retainVersions: number;
}

export const DEFAULT_STATE_OPTIONS: StateStoreOptions = { snapshotEvery: 10, retainVersions: 100 };

export interface StateStoreMetrics {
  numRowsTotal: number;
  /** Keys written in the last committed batch. */
  numRowsUpdated: number;
  /** Keys removed in the last committed batch. */
  numRowsRemoved: number;
  memoryUsedBytes: number;
  commitTimeMs: number;
  /** Bytes of the last delta written. */
  deltaBytes: number;
}

interface DeltaFile {
  puts: Array<[string, JsonValue]>;
  removes: string[];
}
interface SnapshotFile {
  entries: Array<[string, JsonValue]>;
}

const ABSENT = Symbol('absent');
// Rough per-entry cost of a JS Map slot plus two object headers; the estimate only has to be
// proportional for capacity planning, like Spark's SizeEstimator-based memoryUsedBytes.
const ENTRY_OVERHEAD_BYTES = 64;

function entrySize(key: string, valueJson: string): number {
  return ENTRY_OVERHEAD_BYTES + 2 * (key.length + valueJson.length);
}

function asDelta(raw: unknown, file: string): DeltaFile {
  const d = raw as Partial<DeltaFile> | null;
  if (!d || !Array.isArray(d.puts) || !Array.isArray(d.removes))
    throw new CheckpointCorruptError(file, 'not a state delta');
  return d as DeltaFile;
}

function asSnapshot(raw: unknown, file: string): SnapshotFile {
  const s = raw as Partial<SnapshotFile> | null;
  if (!s || !Array.isArray(s.entries)) throw new CheckpointCorruptError(file, 'not a state snapshot');
  return s as SnapshotFile;
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

async function readFiles(
  checkpoint: CheckpointStore,
  task: string,
  operator: string,
  plan: StateFileRef[],
): Promise<Map<string, JsonValue>> {
  const map = new Map<string, JsonValue>();
  for (const ref of plan) {
    const raw = await checkpoint.readState(task, operator, ref);
    const file = checkpoint.describeState(task, operator, ref);
    if (ref.kind === 'snapshot') {
      map.clear();
      for (const [k, v] of asSnapshot(raw, file).entries) map.set(k, v);
    } else {
      const delta = asDelta(raw, file);
      for (const [k, v] of delta.puts) map.set(k, v);
      for (const k of delta.removes) map.delete(k);
    }
  }
  return map;
}

export class StateStore {
  private readonly map: Map<string, JsonValue>;
  private readonly sizes = new Map<string, number>();
  private bytes = 0;
  /** Value each key had at the start of the open batch (for abort) — also the dirty-key set. */
  private readonly undo = new Map<string, JsonValue | typeof ABSENT>();
  private lastMetrics: StateStoreMetrics;
  private maintenanceChain: Promise<void> = Promise.resolve();
  private maintenanceError: Error | undefined;
  private deltasSinceSnapshot: number;

  private constructor(
    private readonly checkpoint: CheckpointStore,
    readonly task: string,
    readonly operator: string,
    private committedVersion: number,
    map: Map<string, JsonValue>,
    deltasSinceSnapshot: number,
    private readonly opts: StateStoreOptions,
  ) {
    this.map = map;
    for (const [k, v] of map) this.track(k, JSON.stringify(v));
    this.deltasSinceSnapshot = deltasSinceSnapshot;
    this.lastMetrics = {
      numRowsTotal: map.size,
      numRowsUpdated: 0,
      numRowsRemoved: 0,
      memoryUsedBytes: this.bytes,
      commitTimeMs: 0,
      deltaBytes: 0,
    };
  }

  /** Restores the state as of `version` (-1 = empty, before the first batch). */
  static async load(
    checkpoint: CheckpointStore,
    task: string,
    operator: string,
    version: number,
    opts: StateStoreOptions = DEFAULT_STATE_OPTIONS,
  ): Promise<StateStore> {
    for (let attempt = 1; ; attempt++) {
      const files = version < 0 ? [] : await checkpoint.listState(task, operator);
      const plan = restorePlan(files, version);
      try {
        const map = await readFiles(checkpoint, task, operator, plan);
        const deltas = plan.filter((f) => f.kind === 'delta').length;
        return new StateStore(checkpoint, task, operator, version, map, deltas, opts);
      } catch (err) {
        // A previous owner's maintenance may delete files between our listing and reading them
        // (after writing a newer snapshot); listing again picks that snapshot up.
        if (!(err instanceof StateFileMissingError) || attempt >= 3) throw err;
      }
    }
  }

  get version(): number {
    return this.committedVersion;
  }

  get size(): number {
    return this.map.size;
  }

  get(key: string): JsonValue | undefined {
    return this.map.get(key);
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  entries(): IterableIterator<[string, JsonValue]> {
    return this.map.entries();
  }

  private remember(key: string): void {
    if (!this.undo.has(key))
      this.undo.set(key, this.map.has(key) ? (this.map.get(key) as JsonValue) : ABSENT);
  }

  put(key: string, value: JsonValue): void {
    this.remember(key);
    this.map.set(key, value);
  }

  remove(key: string): boolean {
    if (!this.map.has(key)) return false;
    this.remember(key);
    this.map.delete(key);
    return true;
  }

  /** Removes every entry matching `predicate` (watermark eviction); returns the removed entries. */
  removeWhere(predicate: (key: string, value: JsonValue) => boolean): Array<[string, JsonValue]> {
    const removed: Array<[string, JsonValue]> = [];
    for (const [k, v] of this.map) if (predicate(k, v)) removed.push([k, v]);
    for (const [k] of removed) this.remove(k);
    return removed;
  }

  private track(key: string, valueJson: string | undefined): void {
    this.bytes -= this.sizes.get(key) ?? 0;
    if (valueJson === undefined) {
      this.sizes.delete(key);
    } else {
      const size = entrySize(key, valueJson);
      this.sizes.set(key, size);
      this.bytes += size;
    }
  }

  /** Persists the open batch's changes as version `version` and makes them the committed state. */
  async commit(version: number): Promise<StateStoreMetrics> {
    if (version <= this.committedVersion)
      throw new Error(
        `state ${this.task}/${this.operator}: commit of version ${version} after ${this.committedVersion}`,
      );
    const started = Date.now();
    const puts: string[] = [];
    const removes: string[] = [];
    for (const key of this.undo.keys()) {
      if (this.map.has(key)) {
        const json = JSON.stringify(this.map.get(key));
        puts.push(`[${JSON.stringify(key)},${json}]`);
        this.track(key, json);
      } else {
        removes.push(JSON.stringify(key));
        this.track(key, undefined);
      }
    }
    let deltaBytes = 0;
    if (puts.length + removes.length > 0) {
      // Built by hand so each value is stringified once (also feeding the memory estimate).
      const text = `{"puts":[${puts.join(',')}],"removes":[${removes.join(',')}]}`;
      deltaBytes = text.length;
      await this.checkpoint.writeStateJson(this.task, this.operator, { version, kind: 'delta' }, text);
      this.deltasSinceSnapshot++;
    }
    this.undo.clear();
    this.committedVersion = version;
    this.lastMetrics = {
      numRowsTotal: this.map.size,
      numRowsUpdated: puts.length,
      numRowsRemoved: removes.length,
      memoryUsedBytes: this.bytes,
      commitTimeMs: Date.now() - started,
      deltaBytes,
    };
    if (this.deltasSinceSnapshot >= this.opts.snapshotEvery) {
      this.deltasSinceSnapshot = 0;
      this.scheduleMaintenance(version);
    }
    return this.lastMetrics;
  }

  /** Drops the open batch's changes (the batch failed and will be replayed). */
  abort(): void {
    for (const [key, before] of this.undo) {
      if (before === ABSENT) this.map.delete(key);
      else this.map.set(key, before);
    }
    this.undo.clear();
  }

  metrics(): StateStoreMetrics {
    return { ...this.lastMetrics, numRowsTotal: this.map.size };
  }

  private scheduleMaintenance(version: number): void {
    // A failed snapshot costs only restore time: the deltas stay until a later snapshot covers
    // them. The chain must not reject (the next maintenance waits on it); the error is kept for
    // flushMaintenance to report.
    this.maintenanceChain = this.maintenanceChain
      .then(() => this.snapshotAndClean(version))
      .catch((e: Error) => {
        this.maintenanceError = e;
      });
  }

  /** Writes `<version>.snapshot` from the files (not the live map) and deletes obsolete files. */
  async snapshotAndClean(version: number): Promise<void> {
    const files = await this.checkpoint.listState(this.task, this.operator);
    const plan = restorePlan(files, version);
    if (plan[0]?.kind !== 'snapshot' || plan[0].version !== version) {
      const map = await readFiles(this.checkpoint, this.task, this.operator, plan);
      const snapshot: SnapshotFile = { entries: [...map.entries()] };
      await this.checkpoint.writeState(this.task, this.operator, { version, kind: 'snapshot' }, snapshot);
      files.push({ version, kind: 'snapshot' });
      files.sort((a, b) => a.version - b.version || (a.kind === b.kind ? 0 : a.kind === 'delta' ? -1 : 1));
    }
    const doomed = obsoleteFiles(files, version - this.opts.retainVersions + 1);
    if (doomed.length > 0) await this.checkpoint.deleteState(this.task, this.operator, doomed);
  }

  /** Waits for background maintenance (used on shutdown and in tests). */
  /** Waits for background snapshots; rejects with the last one's error if it failed. */
  async flushMaintenance(): Promise<void> {
    await this.maintenanceChain;
    const error = this.maintenanceError;
    this.maintenanceError = undefined;
    if (error) throw error;
  }
}
