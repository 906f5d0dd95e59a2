// `npm run -s bench:state -- [--keys 10000000] [--fit-keys 1000000] [--json]`: the state store
// providers on real files, each measurement in its own process (worker.ts) so its peak RSS
// (VmHWM) is its own:
//   (a) the lmdb provider loading --keys keys of windowed state (a commit per 100 k operations,
//       then one streamed snapshot of everything) — goal: peak RSS ≤ 600 MB at 10 M keys;
//   (b) a fresh lmdb instance restoring those keys from the checkpoint (snapshot → LMDB);
//   (c) memory and lmdb on --fit-keys keys (a state that fits in memory): operations/s and the
//       ratio lmdb ÷ memory, in the same run.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { engineNodeFlags } from '@sluice/query-plan';
import { withEngineNodeFlags } from '../../apps/control-plane/src/runtime/engine-node-flags';

const { values } = parseArgs({
  options: {
    keys: { type: 'string', default: '10000000' },
    'fit-keys': { type: 'string', default: '1000000' },
    json: { type: 'boolean', default: false },
  },
});
const RSS_GOAL_MB = 600;
const WORKER = path.join(__dirname, 'worker.ts');
const log = (m: string): void => {
  if (!values.json) process.stderr.write(`[bench:state] ${m}\n`);
};

type Result = Record<string, number | string>;

/**
 * A worker process for `provider`, started with the node flags an engine running that provider
 * gets (engineNodeFlags: lmdb bounds V8's heap growth), so its RSS is an engine's.
 */
async function worker(provider: string, args: string[]): Promise<Result> {
  const [node, ...nodeArgs] = await withEngineNodeFlags(
    [process.execPath, '--import', 'tsx', WORKER],
    engineNodeFlags({ options: { stateStore: provider } }),
  );
  log(`worker: ${[...nodeArgs.slice(0, -1), path.basename(WORKER)].join(' ')}`);
  return new Promise((resolve, reject) => {
    const child = spawn(node!, [...nodeArgs, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`worker ${args.join(' ')} exited ${code}`));
      else resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as Result);
    });
  });
}

async function run(
  label: string,
  provider: string,
  keys: string,
  phase = 'load',
  dirs?: { dir: string; work: string },
) {
  const root = dirs ?? { dir: fs.mkdtempSync(path.join(os.tmpdir(), 'bench-state-cp-')), work: '' };
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-state-work-'));
  log(`${label}: ${provider} ${phase} of ${keys} keys…`);
  try {
    const r = await worker(provider, [
      '--phase',
      phase,
      '--provider',
      provider,
      '--keys',
      keys,
      '--dir',
      root.dir,
      '--work',
      work,
    ]);
    log(`${label}: ${JSON.stringify(r)}`);
    return { result: r, dir: root.dir };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

const mb = (n: unknown): string => `${Number(n).toFixed(0)} MB`;

async function main(): Promise<void> {
  const uptime = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  const big = await run('(a)', 'lmdb', values.keys);
  let restore: Result;
  try {
    restore = (await run('(b)', 'lmdb', values.keys, 'restore', { dir: big.dir, work: '' })).result;
  } finally {
    fs.rmSync(big.dir, { recursive: true, force: true });
  }
  const fit: Record<string, Result> = {};
  for (const provider of ['memory', 'lmdb']) {
    const r = await run('(c)', provider, values['fit-keys']);
    fs.rmSync(r.dir, { recursive: true, force: true });
    fit[provider] = r.result;
  }
  const ratio = Number(fit.lmdb!.opsPerSec) / Number(fit.memory!.opsPerSec);
  const peak = Math.max(Number(big.result.peakRssMb), Number(restore.peakRssMb));
  const summary = {
    loadAverage: uptime,
    keys: Number(values.keys),
    lmdbLoad: big.result,
    lmdbRestore: restore,
    fitKeys: Number(values['fit-keys']),
    fit,
    lmdbOverMemory: ratio,
    rssGoalMb: RSS_GOAL_MB,
    rssGoalMet: peak <= RSS_GOAL_MB,
  };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return;
  }
  const r = big.result;
  process.stdout.write(
    [
      `load average ${uptime}`,
      `(a) lmdb, ${r.keys} keys: ${Number(r.opsPerSec).toFixed(0)} ops/s, peak RSS ${mb(r.peakRssMb)} (anon ${mb(r.rssAnonMb)}, file ${mb(r.rssFileMb)} at the end), deltas ${mb(Number(r.deltaBytes) / 2 ** 20)} in ${r.batches} commits (${(Number(r.commitMs) / 1000).toFixed(1)} s), snapshot ${mb(Number(r.snapshotBytes) / 2 ** 20)} in ${(Number(r.snapshotMs) / 1000).toFixed(1)} s, LMDB files ${mb(Number(r.localBytes) / 2 ** 20)}`,
      `(b) lmdb restore of ${restore.keys} keys from the checkpoint: ${(Number(restore.restoreMs) / 1000).toFixed(1)} s, peak RSS ${mb(restore.peakRssMb)}, ${restore.missing} missing of the spot-checked`,
      `(c) ${values['fit-keys']} keys: memory ${Number(fit.memory!.opsPerSec).toFixed(0)} ops/s (peak RSS ${mb(fit.memory!.peakRssMb)}), lmdb ${Number(fit.lmdb!.opsPerSec).toFixed(0)} ops/s (peak RSS ${mb(fit.lmdb!.peakRssMb)}): lmdb ÷ memory = ${ratio.toFixed(2)}`,
      `goal: lmdb peak RSS ≤ ${RSS_GOAL_MB} MB at ${values.keys} keys: ${summary.rssGoalMet ? 'met' : 'NOT met'} (${mb(peak)})`,
    ].join('\n') + '\n',
  );
}

main().catch((e: Error) => {
  process.stderr.write(`[bench:state] ${e.message}\n`);
  process.exit(1);
});
