// One measured process of `bench:state` (cli.ts starts it, so its peak RSS is this workload's
// alone): windowed-aggregation state through a state store provider on a real checkpoint.
//   load     `--keys N` keys of windowed state in batches of OPS operations (80 % new keys,
//            20 % read-modify-write of existing ones), one commit (delta) per batch and one
//            snapshot of the whole state at the end (streamed); prints throughput and RSS
//   restore  a fresh instance (empty working folder) restores that state from the checkpoint
// Prints one JSON line on stdout.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CheckpointStore } from '../../apps/engine/src/checkpoint/checkpoint-store';
import { FileBlobStore } from '../../apps/engine/src/checkpoint/file-blob-store';
import { LmdbStateStore } from '../../apps/engine/src/state/lmdb-state-store';
import {
  openStateStoreProvider,
  type StateStoreKind,
} from '../../apps/engine/src/state/state-store-provider';

const { values } = parseArgs({
  options: {
    phase: { type: 'string', default: 'load' },
    provider: { type: 'string', default: 'lmdb' },
    keys: { type: 'string', default: '1000000' },
    ops: { type: 'string', default: '100000' },
    dir: { type: 'string' },
    work: { type: 'string' },
  },
});
const KEYS = Number(values.keys);
const OPS = Number(values.ops);
const NEW_PER_BATCH = Math.round(OPS * 0.8);
const BATCHES = Math.ceil(KEYS / NEW_PER_BATCH);
const TASK = 'shuffle.0';
const OPERATOR = 'window';
const BASE = Date.UTC(2026, 0, 1);

/** Key i: a 1-minute window (of 1440 in a day) and a user, as the windowed operator keys state. */
const keyOf = (i: number): string => `${BASE + (i % 1440) * 60_000}|user-${i}`;

function status(): Record<string, number | string> {
  const text = fs.readFileSync('/proc/self/status', 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return {
    peakRssMb: kb('VmHWM') / 1024,
    rssMb: kb('VmRSS') / 1024,
    rssAnonMb: kb('RssAnon') / 1024,
    rssFileMb: kb('RssFile') / 1024,
    // The node flags this process ran with (cli.ts gives lmdb workers an engine's).
    nodeFlags: process.execArgv.filter((a) => a.startsWith('--') && a !== '--import').join(' '),
  };
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) total += fs.statSync(path.join(e.parentPath, e.name)).size;
  return total;
}

async function main(): Promise<void> {
  const dir = values.dir!;
  const work = values.work!;
  const checkpoint = new CheckpointStore(new FileBlobStore(dir), dir);
  // One snapshot, of the whole state, after the last batch (a 10 M-key snapshot is the cost to see).
  const opts = { snapshotEvery: BATCHES, retainVersions: BATCHES + 1 };
  const provider = await openStateStoreProvider(values.provider as StateStoreKind, checkpoint, work, opts);
  if (values.phase === 'restore') {
    const started = performance.now();
    const store = await provider.getStore(TASK, OPERATOR, BATCHES - 1);
    const restoreMs = performance.now() - started;
    // Spot-check: every 1000th key is there with its count.
    let missing = 0;
    for (let i = 0; i < KEYS; i += 1000) if (store.get(keyOf(i)) === undefined) missing++;
    process.stdout.write(
      `${JSON.stringify({ phase: 'restore', provider: provider.kind, keys: store.size, restoreMs, missing, ...status() })}\n`,
    );
    await provider.close();
    return;
  }
  let seed = 42;
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const store = await provider.getStore(TASK, OPERATOR, -1);
  let next = 0;
  let commitMs = 0;
  let deltaBytes = 0;
  const started = performance.now();
  for (let v = 0; v < BATCHES; v++) {
    const fresh = Math.min(NEW_PER_BATCH, KEYS - next);
    for (let j = 0; j < fresh; j++, next++) store.put(keyOf(next), { count: 1, sum: next % 1000 });
    if (next > fresh) {
      for (let j = 0; j < OPS - NEW_PER_BATCH; j++) {
        const k = keyOf(random(next - fresh));
        const s = store.get(k) as { count: number; sum: number } | undefined;
        store.put(k, { count: (s?.count ?? 0) + 1, sum: (s?.sum ?? 0) + j });
      }
    }
    const m = await store.commit(v);
    commitMs += m.commitTimeMs;
    deltaBytes += m.deltaBytes;
  }
  const loadMs = performance.now() - started;
  // The peak of the batches alone; the snapshot of everything follows.
  const peakRssBeforeSnapshotMb = status().peakRssMb;
  const snapStarted = performance.now();
  await store.flushMaintenance();
  const snapshotMs = performance.now() - snapStarted;
  const snapshotFile = path.join(dir, 'tasks', TASK, 'state', OPERATOR, `${BATCHES - 1}.snapshot`);
  const result = {
    phase: 'load',
    provider: provider.kind,
    keys: store.size,
    batches: BATCHES,
    opsPerBatch: OPS,
    loadMs,
    opsPerSec: (BATCHES * OPS) / (loadMs / 1000),
    commitMs,
    deltaBytes,
    snapshotMs,
    snapshotBytes: fs.existsSync(snapshotFile) ? fs.statSync(snapshotFile).size : 0,
    localBytes: fs.existsSync(work) ? dirBytes(work) : 0,
    // lmdb only: how often the mapped pages were dropped, and the snapshot's copy-on-write peak.
    ...(store instanceof LmdbStateStore
      ? { remaps: store.remaps, heldBeforeImages: store.maxHeldBeforeImages }
      : {}),
    peakRssBeforeSnapshotMb,
    ...status(),
  };
  await provider.close();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((e: Error) => {
  process.stderr.write(`${e.stack ?? e.message}\n`);
  process.exit(1);
});
