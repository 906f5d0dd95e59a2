// The on-disk state store provider: the working state of each (task, operator) lives in an LMDB
// environment in a local folder (`<dir>/<task>/<operator>/`), memory-mapped, so the heap holds
// only the open batch's changes and the RSS stays bounded by what the OS keeps mapped.
//
// The checkpoint is the truth and the LMDB copy a cache of one committed version:
//   commit(v)  1. the batch's delta → checkpoint (`<v>.delta`, as the in-memory provider)
//              2. one LMDB write transaction: the changes + meta {version: v, lastFile}
//   open(v)    the cache is used when it holds exactly v, or an older version the checkpoint's
//              deltas lead from to v; anything else (newer, another checkpoint, a reboot, a
//              crash mid-restore, a delta another owner replaced) is rebuilt from the checkpoint.
// A crash between 1 and 2 leaves the cache at v-1 and the delta in the checkpoint: both readings
// of the commit log (v or v-1 committed) restore the right version. The snapshot of v is written
// in the background, streamed, from a chunked scan of version v (lmdb-version-scan.ts): commits
// after v keep the before-images of the keys the scan has not reached, so the snapshot is exactly
// v, and between chunks the store may drop its mapped pages, so neither the heap nor the mapped
// file grows with the state (10 million keys are never in memory, nor all mapped at once).
//
// Memory: every page LMDB reads stays mapped, and counts in the process's RSS, until the map
// goes. The store closes and reopens its environment (dropMappedPagesIfOverBudget) whenever the
// process's file-backed RSS is over a budget: after a commit, between the chunks of a full scan,
// and every READS_PER_BUDGET_CHECK point reads of a batch.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import type { Database, RootDatabase } from 'lmdb';
import type { CheckpointStore, StateFileRef } from '../checkpoint/checkpoint-store';
import { dynamicImport } from '../launch/dynamic-import';
import {
  deltaText,
  readDelta,
  restorePlan,
  restoreVersion,
  writeSnapshot,
  type JsonValue,
} from './state-files';
import type { StateStoreProvider } from './state-store-provider';
import { chunkedEntries, VersionScan, type ChunkSource, type RawEntry } from './lmdb-version-scan';
import {
  addSnapshot,
  cleanObsolete,
  DEFAULT_STATE_OPTIONS,
  type StateStore,
  type StateStoreMetrics,
  type StateStoreOptions,
} from './state-store';

const ABSENT = Symbol('absent');
/** LMDB's key limit is 1978 bytes; longer keys are stored under a hash, the key kept in the value. */
const MAX_PLAIN_KEY_BYTES = 1024;
const HASHED_PREFIX = '~#';
/** Entries per LMDB write transaction while restoring (bounds the transaction's dirty pages). */
const RESTORE_TXN_ENTRIES = 50_000;
/** Largest LMDB file (sparse; only what is written takes disk): room for far more than 10 M keys. */
const MAP_SIZE_BYTES = 64 * 1024 ** 3;

/**
 * File-backed RSS of the process above which a store drops its mapped pages (see the top). It
 * counts the process's other mapped files too (node, libraries: ~45 MB). A commit's write
 * transaction maps the pages it changes on top of it (~190 MB for 100,000 scattered changes at
 * 10 M keys), so the budget is what there is to lower.
 */
const MAPPED_BUDGET_BYTES = 128 * 1024 ** 2;
/** Entries per chunk of a full scan (about 1 MB of LMDB pages at the benchmark's entry size). */
const SCAN_CHUNK_ENTRIES = 10_000;
/**
 * Point reads (get, has, the open batch's existence checks) between two looks at the budget: a
 * read maps ~9 KB on average at 10 M keys (up to 64 KB: the kernel's fault-around), so 500 reads
 * overshoot by a few MB; a look reads /proc/self/status (~25 µs).
 */
const READS_PER_BUDGET_CHECK = 500;

/** How a store bounds its mapped memory (tests shrink both to exercise the paths). */
export interface LmdbMemoryTuning {
  /** File-backed RSS of the process above which the store drops its mapped pages. */
  mappedBudgetBytes: number;
  /** Entries per chunk of a full scan (snapshot, entries()). */
  scanChunkEntries: number;
}

const DEFAULT_TUNING: LmdbMemoryTuning = {
  mappedBudgetBytes: MAPPED_BUDGET_BYTES,
  scanChunkEntries: SCAN_CHUNK_ENTRIES,
};

/** The process's file-backed resident bytes (RssFile; mapped LMDB pages are most of it), or 0. */
function mappedFileBytes(): number {
  try {
    const kb = /^RssFile:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}

interface CacheMeta {
  /** The checkpoint this cache copies (its location). */
  checkpoint: string;
  /** The machine boot the files were written in: noSync writes may be torn by a power loss. */
  bootId: string;
  /** The committed version held, or null while a restore is under way (then rebuilt). */
  version: number | null;
  /** The newest checkpoint file the cache is known to match (its delta text's CRC-32). */
  lastFile: { version: number; kind: 'delta'; crc: number } | { version: number; kind: 'snapshot' } | null;
}

function bootId(): string {
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

function storageKey(key: string): string {
  // lmdb's key encoding (ordered-binary) reads a leading byte below 0x1b as a type tag, so such
  // keys (and the empty key) are hashed too, as is anything that could look like a hashed key.
  if (
    key === '' ||
    key.charCodeAt(0) < 0x20 ||
    key.startsWith('~') ||
    Buffer.byteLength(key) > MAX_PLAIN_KEY_BYTES
  )
    return HASHED_PREFIX + createHash('sha256').update(key).digest('hex');
  return key;
}

interface Wrapped {
  k: string;
  v: JsonValue;
}

function encodeValue(key: string, stored: string, value: JsonValue): unknown {
  return stored === key ? value : ({ k: key, v: value } satisfies Wrapped);
}

function decodeEntry(stored: string, raw: unknown): [string, JsonValue] {
  if (stored.startsWith(HASHED_PREFIX)) {
    const w = raw as Wrapped;
    return [w.k, w.v];
  }
  return [stored, raw as JsonValue];
}

const textCrc = (text: string): number => crc32(Buffer.from(text, 'utf8'));

/** `<dir>/<task>/<operator>`: one LMDB environment per store. */
export class LmdbStateStoreProvider implements StateStoreProvider {
  readonly kind = 'lmdb' as const;
  private readonly open = new Set<LmdbStateStore>();

  constructor(
    private readonly checkpoint: CheckpointStore,
    /** Local working folder of this engine instance's state (never inside the checkpoint). */
    readonly dir: string,
    private readonly opts: StateStoreOptions = DEFAULT_STATE_OPTIONS,
    tuning: Partial<LmdbMemoryTuning> = {},
  ) {
    this.tuning = { ...DEFAULT_TUNING, ...tuning };
    const chunk = this.tuning.scanChunkEntries;
    if (!Number.isInteger(chunk) || chunk < 1)
      throw new Error(`lmdb state: scanChunkEntries must be a positive integer, not ${chunk}`);
  }

  private readonly tuning: LmdbMemoryTuning;

  async getStore(task: string, operator: string, version: number): Promise<LmdbStateStore> {
    const { open } = await dynamicImport<typeof import('lmdb')>('lmdb');
    const envDir = path.join(this.dir, task, operator);
    fs.mkdirSync(envDir, { recursive: true });
    const openEnv = (): RootDatabase =>
      open({ path: envDir, noSync: true, maxDbs: 2, mapSize: MAP_SIZE_BYTES });
    const env = openEnv();
    try {
      const store = await LmdbStateStore.load(env, this.checkpoint, task, operator, version, this.opts);
      store.reopenEnv = openEnv;
      store.tuning = this.tuning;
      this.open.add(store);
      store.onClose = () => this.open.delete(store);
      return store;
    } catch (err) {
      await env.close();
      throw err;
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.open].map((s) => s.close()));
  }
}

export class LmdbStateStore implements StateStore {
  /** The open batch's changes (key → value, or ABSENT when removed). */
  private readonly pending = new Map<string, JsonValue | typeof ABSENT>();
  /** Whether each changed key existed in the committed state (for size()). */
  private readonly existed = new Map<string, boolean>();
  private committedCount: number;
  private sizeChange = 0;
  private lastMetrics: StateStoreMetrics;
  private maintenanceChain: Promise<void> = Promise.resolve();
  private maintenanceError: Error | undefined;
  private closed = false;
  /** Snapshots not finished yet: each keeps its version against later commits. */
  private readonly scans = new Set<VersionScan>();
  private readsSinceBudgetCheck = 0;
  onClose: (() => void) | undefined;
  /** Opens this store's environment again (set by the provider; used to drop mapped pages). */
  reopenEnv: (() => RootDatabase) | undefined;
  tuning: LmdbMemoryTuning = DEFAULT_TUNING;
  /** How many times the mapped pages were dropped (tests, the benchmark). */
  remaps = 0;
  /** The most before-images a snapshot held at once (tests, the benchmark). */
  maxHeldBeforeImages = 0;

  private constructor(
    private env: RootDatabase,
    private db: Database,
    private meta: Database<CacheMeta, string>,
    private readonly checkpoint: CheckpointStore,
    readonly task: string,
    readonly operator: string,
    private committedVersion: number,
    private lastFile: CacheMeta['lastFile'],
    private deltasSinceSnapshot: number,
    private readonly opts: StateStoreOptions,
    /** How the store was opened (tests and logs): the cache as it was, caught up, or rebuilt. */
    readonly opened: 'cached' | 'caught-up' | 'restored',
  ) {
    this.committedCount = (db.getStats() as { entryCount: number }).entryCount;
    this.lastMetrics = {
      numRowsTotal: this.committedCount,
      numRowsUpdated: 0,
      numRowsRemoved: 0,
      memoryUsedBytes: 0,
      commitTimeMs: 0,
      deltaBytes: 0,
    };
  }

  static async load(
    env: RootDatabase,
    checkpoint: CheckpointStore,
    task: string,
    operator: string,
    version: number,
    opts: StateStoreOptions,
  ): Promise<LmdbStateStore> {
    const db = env.openDB<unknown, string>('state', {});
    const meta = env.openDB<CacheMeta, string>('meta', { encoding: 'json' });
    const cached = meta.get('meta');
    const files = version < 0 ? [] : await checkpoint.listState(task, operator);
    const plan = restorePlan(files, version);
    const deltasSinceSnapshot = plan.filter((f) => f.kind === 'delta').length;
    const make = (lastFile: CacheMeta['lastFile'], opened: LmdbStateStore['opened']) =>
      new LmdbStateStore(
        env,
        db,
        meta,
        checkpoint,
        task,
        operator,
        version,
        lastFile,
        deltasSinceSnapshot,
        opts,
        opened,
      );

    const usable =
      cached &&
      // An empty cache vouches for nothing the checkpoint may have consolidated since.
      (cached.lastFile !== null || cached.version === version) &&
      cached.version !== null &&
      cached.version <= version &&
      cached.checkpoint === checkpoint.location &&
      cached.bootId === bootId() &&
      (await matchesCheckpoint(checkpoint, task, operator, files, cached));
    if (usable && cached.version !== null) {
      // The deltas after the cache's newest file: none (exact) or the ones it missed.
      const missed = files.filter(
        (f) => f.kind === 'delta' && f.version > cached.version! && f.version <= version,
      );
      if (missed.length === 0 && cached.version === version) return make(cached.lastFile, 'cached');
      let lastFile = cached.lastFile;
      for (const ref of missed) {
        const delta = await readDelta(checkpoint, task, operator, ref.version);
        const text = deltaText(
          delta.puts.map((p) => JSON.stringify(p)),
          delta.removes.map((k) => JSON.stringify(k)),
        );
        lastFile = { version: ref.version, kind: 'delta', crc: textCrc(text) };
        db.transactionSync(() => {
          for (const [k, v] of delta.puts) {
            const s = storageKey(k);
            db.putSync(s, encodeValue(k, s, v));
          }
          for (const k of delta.removes) db.removeSync(storageKey(k));
          meta.putSync('meta', { ...cached, version: ref.version, lastFile });
        });
      }
      meta.putSync('meta', { ...cached, version, lastFile });
      return make(lastFile, 'caught-up');
    }

    // Rebuild: marked unusable first, so a crash mid-restore is never mistaken for a version.
    meta.putSync('meta', {
      checkpoint: checkpoint.location,
      bootId: bootId(),
      version: null,
      lastFile: null,
    });
    let txnEntries: Array<() => void> = [];
    const flush = (): void => {
      const ops = txnEntries;
      txnEntries = [];
      if (ops.length > 0) db.transactionSync(() => ops.forEach((op) => op()));
    };
    await restoreVersion(checkpoint, task, operator, version, {
      clear: () => {
        txnEntries = [];
        db.clearSync();
      },
      put: (entries) => {
        for (const [k, v] of entries) {
          const s = storageKey(k);
          txnEntries.push(() => db.putSync(s, encodeValue(k, s, v)));
        }
        if (txnEntries.length >= RESTORE_TXN_ENTRIES) flush();
      },
      remove: (keys) => {
        for (const k of keys) {
          const s = storageKey(k);
          txnEntries.push(() => db.removeSync(s));
        }
        if (txnEntries.length >= RESTORE_TXN_ENTRIES) flush();
      },
    });
    flush();
    const last = plan.at(-1);
    let lastFile: CacheMeta['lastFile'] = null;
    if (last?.kind === 'snapshot') lastFile = { version: last.version, kind: 'snapshot' };
    else if (last) {
      const delta = await readDelta(checkpoint, task, operator, last.version);
      const text = deltaText(
        delta.puts.map((p) => JSON.stringify(p)),
        delta.removes.map((k) => JSON.stringify(k)),
      );
      lastFile = { version: last.version, kind: 'delta', crc: textCrc(text) };
    }
    meta.putSync('meta', { checkpoint: checkpoint.location, bootId: bootId(), version, lastFile });
    return make(lastFile, 'restored');
  }

  get version(): number {
    return this.committedVersion;
  }

  get size(): number {
    return this.committedCount + this.sizeChange;
  }

  get(key: string): JsonValue | undefined {
    const p = this.pending.get(key);
    if (p !== undefined) return p === ABSENT ? undefined : p;
    this.countRead();
    const s = storageKey(key);
    const raw = this.db.get(s);
    return raw === undefined ? undefined : decodeEntry(s, raw)[1];
  }

  has(key: string): boolean {
    const p = this.pending.get(key);
    if (p !== undefined) return p !== ABSENT;
    this.countRead();
    return this.db.doesExist(storageKey(key));
  }

  /**
   * The committed entries (in chunks, dropping mapped pages between them as needed) overlaid
   * with the open batch. A live view: meant to be read between commits, as the stages do.
   */
  *entries(): IterableIterator<[string, JsonValue]> {
    for (const { key, value } of chunkedEntries(this.chunkSource(), this.tuning.scanChunkEntries)) {
      const entry = decodeEntry(key, value);
      if (!this.pending.has(entry[0])) yield entry;
    }
    for (const [k, v] of this.pending) if (v !== ABSENT) yield [k, v];
  }

  private chunkSource(): ChunkSource {
    return {
      readChunk: (after, limit) => {
        // Read whole before anything is yielded: the chunk's read transaction ends here.
        const range = this.db.getRange({
          ...(after === null ? {} : { start: after, exclusiveStart: true }),
          limit,
        });
        const chunk: RawEntry[] = [];
        for (const { key, value } of range) chunk.push({ key: key as string, value });
        return chunk;
      },
      betweenChunks: () => this.dropMappedPagesIfOverBudget(),
    };
  }

  /** Point reads map pages too: a batch of random reads over a large state can map all of it. */
  private countRead(): void {
    if (++this.readsSinceBudgetCheck < READS_PER_BUDGET_CHECK) return;
    this.readsSinceBudgetCheck = 0;
    this.dropMappedPagesIfOverBudget();
  }

  private touch(key: string): boolean {
    // Whether the key is present now; remembers whether it was before the batch.
    const p = this.pending.get(key);
    if (p !== undefined) return p !== ABSENT;
    let was = this.existed.get(key);
    if (was === undefined) {
      this.countRead();
      was = this.db.doesExist(storageKey(key));
      this.existed.set(key, was);
    }
    return was;
  }

  put(key: string, value: JsonValue): void {
    if (!this.touch(key)) this.sizeChange++;
    this.pending.set(key, value);
  }

  remove(key: string): boolean {
    if (!this.touch(key)) return false;
    this.sizeChange--;
    this.pending.set(key, ABSENT);
    return true;
  }

  removeWhere(predicate: (key: string, value: JsonValue) => boolean): Array<[string, JsonValue]> {
    const removed: Array<[string, JsonValue]> = [];
    for (const [k, v] of this.entries()) if (predicate(k, v)) removed.push([k, v]);
    for (const [k] of removed) this.remove(k);
    return removed;
  }

  async commit(version: number): Promise<StateStoreMetrics> {
    if (version <= this.committedVersion)
      throw new Error(
        `state ${this.task}/${this.operator}: commit of version ${version} after ${this.committedVersion}`,
      );
    const started = Date.now();
    const puts: string[] = [];
    const removes: string[] = [];
    for (const [key, value] of this.pending) {
      if (value === ABSENT) removes.push(JSON.stringify(key));
      else puts.push(`[${JSON.stringify(key)},${JSON.stringify(value)}]`);
    }
    let deltaBytes = 0;
    let lastFile = this.lastFile;
    if (puts.length + removes.length > 0) {
      const text = deltaText(puts, removes);
      deltaBytes = text.length;
      // 1. The truth first: a crash after this and before the LMDB write leaves a cache the
      // delta leads on from (see the top of the file).
      await this.checkpoint.writeStateJson(this.task, this.operator, { version, kind: 'delta' }, text);
      this.deltasSinceSnapshot++;
      lastFile = { version, kind: 'delta', crc: textCrc(text) };
    }
    // 2. The cache, in one transaction with its version. Snapshots under way keep the values of
    // their version first.
    const { db, meta } = this;
    for (const scan of this.scans) {
      for (const key of this.pending.keys()) {
        const s = storageKey(key);
        scan.beforeWrite(s, () => db.get(s));
      }
      this.maxHeldBeforeImages = Math.max(this.maxHeldBeforeImages, scan.heldKeys);
    }
    const cachedMeta = meta.get('meta');
    db.transactionSync(() => {
      for (const [key, value] of this.pending) {
        const s = storageKey(key);
        if (value === ABSENT) db.removeSync(s);
        else db.putSync(s, encodeValue(key, s, value));
      }
      meta.putSync('meta', {
        checkpoint: this.checkpoint.location,
        bootId: cachedMeta?.bootId ?? bootId(),
        version,
        lastFile,
      });
    });
    this.lastFile = lastFile;
    this.committedCount += this.sizeChange;
    this.pending.clear();
    this.existed.clear();
    this.sizeChange = 0;
    this.committedVersion = version;
    this.lastMetrics = {
      numRowsTotal: this.committedCount,
      numRowsUpdated: puts.length,
      numRowsRemoved: removes.length,
      memoryUsedBytes: 0,
      commitTimeMs: Date.now() - started,
      deltaBytes,
    };
    if (this.deltasSinceSnapshot >= this.opts.snapshotEvery) {
      this.deltasSinceSnapshot = 0;
      // Registered now, before any later commit: the snapshot reads exactly version `version`.
      const scan = new VersionScan();
      this.scans.add(scan);
      this.scheduleMaintenance(version, scan);
    }
    this.dropMappedPagesIfOverBudget();
    return this.lastMetrics;
  }

  /**
   * When the process's file-backed RSS is over the budget, closes the environment and opens it
   * again — a few milliseconds; the pages stay in the page cache, so the next reads are minor
   * faults, not disk reads. Called only where no LMDB read or transaction is open (between
   * commits, between a scan's chunks, between point reads), and synchronous, so no read of the
   * running batch can meet a closed environment.
   */
  private dropMappedPagesIfOverBudget(): void {
    if (!this.reopenEnv || this.closed) return;
    if (mappedFileBytes() <= this.tuning.mappedBudgetBytes) return;
    const env = this.env;
    void env.close();
    // lmdb-js closes at once unless asynchronous writes are pending; this store writes only
    // synchronously, so anything else is a bug to report, not to paper over.
    if ((env as unknown as { status?: string }).status !== 'closed')
      throw new Error(
        `state ${this.task}/${this.operator}: the LMDB environment did not close at once (asynchronous writes pending?)`,
      );
    this.remaps++;
    this.env = this.reopenEnv();
    this.db = this.env.openDB<unknown, string>('state', {});
    this.meta = this.env.openDB<CacheMeta, string>('meta', { encoding: 'json' });
  }

  abort(): void {
    this.pending.clear();
    this.existed.clear();
    this.sizeChange = 0;
  }

  metrics(): StateStoreMetrics {
    return { ...this.lastMetrics, numRowsTotal: this.size };
  }

  private scheduleMaintenance(version: number, scan: VersionScan): void {
    // As the in-memory provider: a failed snapshot costs only restore time; the error is kept
    // for flushMaintenance to report.
    this.maintenanceChain = this.maintenanceChain
      .then(() => this.snapshotAndClean(version, scan))
      .catch((e: Error) => {
        this.maintenanceError = e;
      })
      .finally(() => {
        this.scans.delete(scan);
      });
  }

  /** Writes `<version>.snapshot` from `scan` (registered at `version`), streamed; cleans up. */
  private async snapshotAndClean(version: number, scan: VersionScan): Promise<void> {
    const files = await this.checkpoint.listState(this.task, this.operator);
    const plan = restorePlan(files, version);
    if (plan[0]?.kind !== 'snapshot' || plan[0].version !== version) {
      const source = this.chunkSource();
      const chunkEntries = this.tuning.scanChunkEntries;
      function* atVersion(): Generator<[string, JsonValue]> {
        for (const { key, value } of scan.entries(source, chunkEntries)) yield decodeEntry(key, value);
      }
      await writeSnapshot(this.checkpoint, this.task, this.operator, version, atVersion());
      addSnapshot(files, version);
    }
    await cleanObsolete(this.checkpoint, this.task, this.operator, files, version, this.opts);
  }

  async flushMaintenance(): Promise<void> {
    await this.maintenanceChain;
    const error = this.maintenanceError;
    this.maintenanceError = undefined;
    if (error) throw error;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.maintenanceChain;
    this.onClose?.();
    await this.env.close();
  }
}

/**
 * Whether the cache's newest file is still the checkpoint's: the same delta (another owner may
 * have re-run and rewritten that batch) or the snapshot still listed, and no other delta written
 * between it and the cache's version.
 */
async function matchesCheckpoint(
  checkpoint: CheckpointStore,
  task: string,
  operator: string,
  files: StateFileRef[],
  cached: CacheMeta,
): Promise<boolean> {
  const last = cached.lastFile;
  const version = cached.version ?? -1;
  const after = last?.version ?? -1;
  if (files.some((f) => f.kind === 'delta' && f.version > after && f.version <= version)) return false;
  if (!last) return files.every((f) => f.version > version);
  if (last.kind === 'snapshot') return files.some((f) => f.kind === 'snapshot' && f.version === last.version);
  if (!files.some((f) => f.kind === 'delta' && f.version === last.version)) return false;
  try {
    const delta = await readDelta(checkpoint, task, operator, last.version);
    const text = deltaText(
      delta.puts.map((p) => JSON.stringify(p)),
      delta.removes.map((k) => JSON.stringify(k)),
    );
    return textCrc(text) === last.crc;
  } catch {
    return false;
  }
}
