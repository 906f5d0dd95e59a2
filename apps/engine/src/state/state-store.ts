// Versioned key→value state for one (task, operator): Spark's HDFS-backed state store model.
// Version v is the state after batch v. Each commit writes the batch's changes as
// `state/<operator>/<v>.delta`; maintenance (off the hot path) consolidates the newest snapshot and
// the deltas after it into `<v>.snapshot` every `snapshotEvery` deltas and deletes files no
// retained version needs. Restore = newest snapshot ≤ v, then the deltas after it, in order.
// `StateStore` is the API operators use; a provider (state-store-provider.ts) decides where the
// working state lives: here in a Map (the in-memory provider), or in LMDB (lmdb-state-store.ts).
// The checkpoint files are the same for both (state-files.ts).
import type { CheckpointStore, StateFileRef } from '../checkpoint/checkpoint-store';
import {
  deltaText,
  obsoleteFiles,
  restorePlan,
  restoreVersion,
  writeSnapshot,
  type JsonValue,
} from './state-files';

export type { JsonValue } from './state-files';
export { obsoleteFiles, restorePlan } from './state-files';

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
  /** Estimated heap bytes of the state (LMDB: 0; the state is in the memory-mapped file). */
  memoryUsedBytes: number;
  commitTimeMs: number;
  /** Bytes of the last delta written. */
  deltaBytes: number;
}

/**
 * One (task, operator)'s state at a version, as every provider serves it (Spark's StateStore).
 * A value read with get() must be put() again after a change: a provider may hand out a copy.
 */
export interface StateStore {
  readonly task: string;
  readonly operator: string;
  /** The committed version the open batch builds on. */
  readonly version: number;
  /** Keys in the state, the open batch's changes included. */
  readonly size: number;
  get(key: string): JsonValue | undefined;
  has(key: string): boolean;
  /** Every entry, the open batch's changes included (order is the provider's). */
  entries(): IterableIterator<[string, JsonValue]>;
  put(key: string, value: JsonValue): void;
  remove(key: string): boolean;
  /** Removes every entry matching `predicate` (watermark eviction); returns the removed entries. */
  removeWhere(predicate: (key: string, value: JsonValue) => boolean): Array<[string, JsonValue]>;
  /** Persists the open batch's changes as version `version` and makes them the committed state. */
  commit(version: number): Promise<StateStoreMetrics>;
  /** Drops the open batch's changes (the batch failed and will be replayed). */
  abort(): void;
  metrics(): StateStoreMetrics;
  /** Waits for background snapshots; rejects with the last one's error if it failed. */
  flushMaintenance(): Promise<void>;
  /** Releases what the store holds locally (after flushMaintenance; the checkpoint is untouched). */
  close(): Promise<void>;
}

const ABSENT = Symbol('absent');
// Rough per-entry cost of a JS Map slot plus two object headers; the estimate only has to be
// proportional for capacity planning, like Spark's SizeEstimator-based memoryUsedBytes.
const ENTRY_OVERHEAD_BYTES = 64;

function entrySize(key: string, valueJson: string): number {
  return ENTRY_OVERHEAD_BYTES + 2 * (key.length + valueJson.length);
}

/** The state of `version` read into a Map (-1 = empty); also the number of deltas after its snapshot. */
async function readIntoMap(
  checkpoint: CheckpointStore,
  task: string,
  operator: string,
  version: number,
): Promise<{ map: Map<string, JsonValue>; deltas: number }> {
  const map = new Map<string, JsonValue>();
  const deltas = await restoreVersion(checkpoint, task, operator, version, {
    clear: () => map.clear(),
    put: (entries) => {
      for (const [k, v] of entries) map.set(k, v);
    },
    remove: (keys) => {
      for (const k of keys) map.delete(k);
    },
  });
  return { map, deltas };
}

/** The in-memory provider's store: the whole state in a Map. */
export class InMemoryStateStore implements StateStore {
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
  ): Promise<InMemoryStateStore> {
    const { map, deltas } = await readIntoMap(checkpoint, task, operator, version);
    return new InMemoryStateStore(checkpoint, task, operator, version, map, deltas, opts);
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
      const text = deltaText(puts, removes);
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
    await snapshotFromFilesAndClean(this.checkpoint, this.task, this.operator, version, this.opts);
  }

  /** Waits for background snapshots; rejects with the last one's error if it failed. */
  async flushMaintenance(): Promise<void> {
    await this.maintenanceChain;
    const error = this.maintenanceError;
    this.maintenanceError = undefined;
    if (error) throw error;
  }

  async close(): Promise<void> {
    // Nothing held outside the heap.
  }
}

/**
 * Maintenance from the checkpoint's own files: writes `<version>.snapshot` (newest snapshot +
 * deltas, read into a Map) unless present, then deletes what no retained version needs.
 */
export async function snapshotFromFilesAndClean(
  checkpoint: CheckpointStore,
  task: string,
  operator: string,
  version: number,
  opts: StateStoreOptions,
): Promise<void> {
  const files = await checkpoint.listState(task, operator);
  const plan = restorePlan(files, version);
  if (plan[0]?.kind !== 'snapshot' || plan[0].version !== version) {
    const { map } = await readIntoMap(checkpoint, task, operator, version);
    await writeSnapshot(checkpoint, task, operator, version, map.entries());
    addSnapshot(files, version);
  }
  await cleanObsolete(checkpoint, task, operator, files, version, opts);
}

/** Adds `<version>.snapshot` to a sorted listing. */
export function addSnapshot(files: StateFileRef[], version: number): void {
  files.push({ version, kind: 'snapshot' });
  files.sort((a, b) => a.version - b.version || (a.kind === b.kind ? 0 : a.kind === 'delta' ? -1 : 1));
}

/** Deletes the files no version ≥ version - retainVersions + 1 needs. */
export async function cleanObsolete(
  checkpoint: CheckpointStore,
  task: string,
  operator: string,
  files: StateFileRef[],
  version: number,
  opts: StateStoreOptions,
): Promise<void> {
  const doomed = obsoleteFiles(files, version - opts.retainVersions + 1);
  if (doomed.length > 0) await checkpoint.deleteState(task, operator, doomed);
}
