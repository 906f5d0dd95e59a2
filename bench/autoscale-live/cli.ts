// `npm run bench:autoscale:live -- --profile bench/profiles/step.json --speedup 10 [--policy sluice]
//   [--cpu-limit CORES] [--rate-scale X] [--json]`
// One live run (run-live.ts) printed as the simulator's JSON keys. `bench:autoscale -- --live`
// runs the same and sets it beside the simulation of the same profile.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { MAX_CPU_LIMIT, MIN_CPU_LIMIT } from '@sluice/contracts';
import { isPolicyName, parseProfile } from '@sluice/scaling';
import { liveNumber } from './live-args';
import { runLive } from './run-live';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      profile: { type: 'string' },
      speedup: { type: 'string', default: '10' },
      policy: { type: 'string', default: 'sluice' },
      'rate-scale': { type: 'string' },
      'max-instances': { type: 'string' },
      partitions: { type: 'string' },
      'cpu-limit': { type: 'string' },
      port: { type: 'string', default: '4491' },
      'drain-timeout': { type: 'string', default: '180' },
      json: { type: 'boolean', default: false },
    },
  });
  if (!values.profile) throw new Error('--profile FILE is required');
  const policy = values.policy;
  if (!isPolicyName(policy)) throw new Error(`unknown policy "${policy}"`);
  const profile = parseProfile(JSON.parse(fs.readFileSync(path.resolve(values.profile), 'utf8')));
  const result = await runLive(
    {
      profile,
      policy,
      speedup: liveNumber(values.speedup, 'speedup', 1, 1000) ?? 10,
      rateScale: liveNumber(values['rate-scale'], 'rate-scale', 0.0001, 100),
      maxInstances: liveNumber(values['max-instances'], 'max-instances', 1, 64),
      partitions: liveNumber(values.partitions, 'partitions', 1, 256),
      cpuLimit: liveNumber(values['cpu-limit'], 'cpu-limit', MIN_CPU_LIMIT, MAX_CPU_LIMIT),
      port: liveNumber(values.port, 'port', 1, 65535) ?? 4491,
      drainTimeoutMs: (liveNumber(values['drain-timeout'], 'drain-timeout', 1, 3600) ?? 180) * 1000,
    },
    (m) => {
      if (!values.json) process.stderr.write(`[bench:autoscale:live] ${m}\n`);
    },
  );
  process.stdout.write(`${JSON.stringify(result.summary, null, values.json ? 0 : 2)}\n`);
}

main().catch((e: Error) => {
  process.stderr.write(`bench:autoscale:live failed: ${e.message}\n`);
  process.exit(1);
});
