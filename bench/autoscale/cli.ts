// Autoscaling benchmark on the simulator.
//   --profile FILE --policy NAME [--json] [--pid on|off]   one run
//   --all [--pid on|off]                                   every policy × shipped profile; writes BENCHMARKS.md
//   --replay QUERY_ID [--policy NAME] [--json] [--slo S]  what-if on a query's stored progress
//   --profile FILE --frontier --seeds N [--coarse] [--json]  knob sweeps, medians over seeds
//   --all --frontier --seeds N [--coarse] [--family shipped|new]
//                                       frontier of a profile family, stored as JSON next to this
//                                       file; the BENCHMARKS.md frontier section is rendered from
//                                       every stored family
//   --live [--profile FILE] [--policy NAME] [--cpu-limit CORES] [--speedup N] [--json]
//                                       the short live profiles (or FILE) on the real stack with
//                                       CPU-limited engines, beside the simulation of each
import path from 'node:path';
import { parseArgs } from 'node:util';
import { isPolicyName, POLICY_NAMES, type Profile, type SimulationSummary } from '@sluice/scaling';
import {
  markdownTable,
  pidTable,
  resultsTable,
  targetsTable,
  targetSummary,
  textTable,
  variantsTable,
  writeBenchmarksSection,
} from './report';
import { loadReplayProfile } from './replay';
import {
  checkTargets,
  loadProfile,
  loadShippedProfiles,
  runMatrix,
  runOne,
  type Matrix,
  type TargetReport,
} from './run-matrix';
import { runVariants, type VariantResult } from './variants';
import { comparisonTables, compareLive, LIVE_PROFILES } from './live-compare';
import { liveNumber } from '../autoscale-live/live-args';
import { runFrontier } from './frontier';
import {
  FAMILIES,
  frontierText,
  isFamily,
  progressLine,
  runChunk,
  runFrontierFamily,
} from './frontier-report';

/** Bounds the work one command can ask for (each seed is a full sweep). */
const MAX_SEEDS = 100;
/** Child processes of a parallel frontier run (each nice'd). */
const MAX_JOBS = 8;

const BENCHMARKS_FILE = path.resolve(__dirname, '..', '..', 'BENCHMARKS.md');

const USAGE = `usage:
  npm run -s bench:autoscale -- --profile FILE --policy NAME [--json] [--pid on|off]
  npm run -s bench:autoscale -- --all [--pid on|off]
  npm run -s bench:autoscale -- --replay QUERY_ID [--policy NAME] [--json] [--slo SECONDS]
  npm run -s bench:autoscale -- --profile FILE --frontier --seeds N [--coarse] [--json]
  npm run -s bench:autoscale -- --all --frontier --seeds N [--coarse] [--family shipped|new] [--jobs J] [--tick S]
  npm run -s bench:autoscale -- --live [--profile FILE] [--policy NAME] [--cpu-limit CORES] [--speedup N] [--json]
policies: ${POLICY_NAMES.join(', ')}`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      profile: { type: 'string' },
      policy: { type: 'string' },
      json: { type: 'boolean', default: false },
      all: { type: 'boolean', default: false },
      pid: { type: 'string', default: 'on' },
      replay: { type: 'string' },
      slo: { type: 'string', default: '60' },
      frontier: { type: 'boolean', default: false },
      seeds: { type: 'string', default: '10' },
      coarse: { type: 'boolean', default: false },
      family: { type: 'string', default: 'shipped' },
      jobs: { type: 'string', default: '1' },
      chunk: { type: 'string' },
      tick: { type: 'string' },
      live: { type: 'boolean', default: false },
      'cpu-limit': { type: 'string', default: '0.1' },
      speedup: { type: 'string', default: '10' },
      port: { type: 'string', default: '4491' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return console.log(USAGE);
  if (values.pid !== 'on' && values.pid !== 'off') throw new UsageError('--pid must be on or off');
  const pid = values.pid === 'on';
  if (values.policy !== undefined && !isPolicyName(values.policy))
    throw new UsageError(`unknown policy "${values.policy}"`);

  if (values.live) {
    const policy = values.policy ?? 'sluice';
    if (!isPolicyName(policy)) throw new UsageError(`unknown policy "${policy}"`);
    const num = (v: string, what: string, min: number, max: number) => {
      try {
        return liveNumber(v, what, min, max) as number;
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
    };
    const rows = await compareLive(
      values.profile === undefined ? LIVE_PROFILES : [values.profile],
      {
        policy,
        cpuLimit: num(values['cpu-limit'], 'cpu-limit', 0.01, 64),
        speedup: num(values.speedup, 'speedup', 1, 1000),
        port: num(values.port, 'port', 1, 65535),
      },
      (m) => console.error(`[bench:autoscale --live] ${m}`),
    );
    if (values.json) return console.log(JSON.stringify(rows));
    return console.log(comparisonTables(rows));
  }
  if (values.frontier) {
    const tick = values.tick === undefined ? undefined : Number(values.tick);
    if (tick !== undefined && !(tick >= 0.05 && tick <= 1))
      throw new UsageError('--tick must be a number of seconds from 0.05 to 1');
    const seeds = Number(values.seeds);
    if (!Number.isInteger(seeds) || seeds < 1 || seeds > MAX_SEEDS)
      throw new UsageError(`--seeds must be an integer from 1 to ${MAX_SEEDS}`);
    if (values.all) {
      if (!isFamily(values.family)) throw new UsageError(`--family must be one of ${FAMILIES.join(', ')}`);
      const jobs = Number(values.jobs);
      if (!Number.isInteger(jobs) || jobs < 1 || jobs > MAX_JOBS)
        throw new UsageError(`--jobs must be an integer from 1 to ${MAX_JOBS}`);
      return runFrontierFamily(values.family, seeds, values.coarse, jobs, tick, BENCHMARKS_FILE);
    }
    if (values.profile === undefined) throw new UsageError('--frontier needs --profile FILE or --all');
    if (values.chunk !== undefined)
      return console.log(JSON.stringify(runChunk(values.profile, values.chunk, seeds, values.coarse, tick)));
    const run = runFrontier(loadProfile(values.profile), {
      seeds,
      coarse: values.coarse,
      ...(tick !== undefined && { tickSeconds: tick }),
      onRun: progressLine(path.basename(values.profile)),
    });
    if (values.json) return console.log(JSON.stringify(run.frontier));
    return console.log(frontierText(run.frontier));
  }
  if (values.all) return runAll(pid);
  if (values.replay !== undefined) {
    const slo = Number(values.slo);
    if (!(slo > 0)) throw new UsageError('--slo must be a positive number of seconds');
    return runProfile(await loadReplayProfile(values.replay, slo), values.policy, pid, values.json);
  }
  if (values.profile === undefined || values.policy === undefined)
    throw new UsageError('--profile and --policy are required');
  return runProfile(loadProfile(values.profile), values.policy, pid, values.json);
}

function runProfile(profile: Profile, policy: string | undefined, pid: boolean, json: boolean): void {
  const results = (policy ? [policy] : [...POLICY_NAMES]).map((p) => runOne(profile, p, pid));
  if (json) {
    for (const r of results) console.log(JSON.stringify(r));
    return;
  }
  console.log(textTable(results));
}

function runAll(pid: boolean): void {
  const profiles = loadShippedProfiles();
  const matrix = runMatrix(profiles);
  const main: SimulationSummary[] = pid ? matrix.main : matrix.withoutPid;
  console.log(textTable(main));
  const report = checkTargets(matrix);
  console.log(`\n${targetSummary(report).join('\n')}`);
  const variants = runVariants(profiles);
  for (const v of variants)
    console.log(
      `variant ${v.name}: ${v.report.profilesMet}/${v.report.profiles.length} profiles meet the targets`,
    );
  writeBenchmarksSection(BENCHMARKS_FILE, sectionBody(matrix, report, variants, profiles, pid));
  console.log(
    `\nwrote the Autoscaling section of ${path.relative(process.cwd(), BENCHMARKS_FILE) || BENCHMARKS_FILE}`,
  );
}

function sectionBody(
  matrix: Matrix,
  report: TargetReport,
  variants: VariantResult[],
  profiles: Profile[],
  pid: boolean,
): string {
  const profileRows = profiles.map((p) => [
    p.name,
    `${Math.round(p.durationSeconds / 60)} min`,
    String(p.partitions),
    `${p.instance.capacity}/s, start ${p.instance.startupSeconds} s, rebalance ${p.instance.rebalancePauseSeconds} s`,
    `${p.triggerSeconds} s`,
    `${p.slo.maxLagSeconds} s`,
    `${Math.min(...p.input.map((i) => i.rate))}–${Math.max(...p.input.map((i) => i.rate))}/s`,
  ]);
  return [
    'Generated by `npm run -s bench:autoscale -- --all` (simulator, deterministic per profile seed; rerun to refresh).',
    'Live-stack numbers and the sim-vs-live calibration belong to the live benchmark and are not part of this table.',
    '',
    pid
      ? `### Results (PID backpressure on; spark-ratio the better of backpressure off, Spark’s default, and on — on for: ${matrix.sparkBackpressureOn.join(', ') || 'none'})`
      : '### Results (PID backpressure off)',
    '',
    resultsTable(pid ? matrix.main : matrix.withoutPid),
    '',
    '### Targets (PID on)',
    '',
    targetsTable(report),
    '',
    ...targetSummary(report),
    '',
    '### Profiles the policy was not tuned on',
    '',
    'The same targets on variants of all four profiles (PID on; sluice against spark-ratio and ds2).',
    '',
    variantsTable(variants),
    '',
    '### PID backpressure on vs off',
    '',
    'Without a rate limit a catch-up batch reads the whole backlog, so batches grow far beyond the trigger interval',
    'and the lag is only committed at their end. Backpressure is not free either: the PID paces every instance by the',
    'slowest one, which slows catch-up, and a rule that reads batch duration (spark-ratio) sees short batches and adds',
    'instances more timidly, so a baseline can violate the objective less with PID off.',
    '',
    pidTable(matrix),
    '',
    '### Profiles',
    '',
    markdownTable(
      ['profile', 'duration', 'partitions', 'instance', 'trigger', 'lag SLO', 'input'],
      profileRows,
    ),
    '',
    '### Model and definitions',
    '',
    '- Records are produced per partition (weights ±10 %, input noise ±3 % per 10 s) and never dropped; each ready instance runs',
    '  its own micro-batch loop on its assigned partitions (triggers on multiples of the interval, at once after an overrun), batch',
    '  duration = overhead + rows / (capacity × per-instance skew × per-batch jitter). A membership change rebalances the group:',
    '  in-flight batches are abandoned (re-read later) and every instance pauses. New instances cost from the request on.',
    '- Policies are asked every 15 s with 20 min of aggregated progress and per-second lag. PID (Spark’s estimator on aggregated',
    '  progress) caps the read rate, split over instances by partition share; a limit computed for one membership is rescaled',
    '  by effective instances when the group changes. Policy rate limits (sluice’s, while instances start) apply only with PID on.',
    '- Baselines use their projects’ defaults except where their system has a lag setting, which gets the profile’s objective:',
    '  spark-ratio 60 s interval, ratios 0.9/0.3, scored at the better of backpressure off (Spark’s default) and on; ds2 (Flink',
    '  operator) utilisation 0.7 ± 0.3, MAX busy-time aggregation, observed-rate switch, evaluated every 60 s, 15 min window,',
    '  5 min stabilisation from all instances running, catch-up duration and backlog threshold = the objective, restart time =',
    '  start-up + rebalance pause, 1 h scale-down interval, max scale-down 0.6, partition alignment, each rescale a full restart;',
    '  keda-lag HPA tolerance 0.1, 300 s down-stabilisation, up by max(100 %, 4) per 15 s, lag threshold = one trigger of one',
    '  instance’s capacity (swept in the frontier section).',
    '- SLO violation = seconds with time lag (age of the oldest uncommitted record) above the objective. Oscillation = an action',
    '  reversing the previous one within 10 min while the 60 s input rate changed < 10 %. Actions to converge = actions from the',
    '  step until the lag stays under the objective and no further action follows, up to the next input change (step and',
    '  spike profiles; the largest rise). Lost = produced − processed − backlog, from three independent counters.',
  ].join('\n');
}

class UsageError extends Error {}

main().catch((err: unknown) => {
  if (err instanceof UsageError) {
    console.error(`${err.message}\n${USAGE}`);
    process.exit(2);
  }
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
