// `bench:autoscale -- --live`: replays short profiles against the real stack with CPU-limited
// engines (bench/autoscale-live/run-live.ts) and sets each beside the simulation of the same
// profile, restricted to what the live run had (its partitions and instance range). The live run
// maps the profile's instance capacity onto one limited engine's measured capacity, so both need
// the same number of instances for the same demand; the gap column is live − sim.
import path from 'node:path';
import {
  COLD_BATCHES,
  type BatchBoundUnits,
  type PolicyName,
  type Profile,
  type SimulationSummary,
} from '@sluice/scaling';
import { profileWithBatchCost, type BatchCostFit } from '../autoscale-live/batch-cost';
import { runLive, type LiveResult } from '../autoscale-live/run-live';
import {
  coldBatchesExtra,
  coldFirstBatch,
  medianOnlineSeconds,
  profileWithOnlineSeconds,
  profileWithStartup,
  startupBySize,
  type ColdFirstBatch,
  type ScaleOutOnline,
  type StartupBySize,
} from '../autoscale-live/startup';
import { formatSpans, type ViolationSpan } from '../autoscale-live/violation-spans';
import { markdownTable } from './report';
import { liveBatchBound, simulateAsLive, LIVE_TICK_SECONDS, type PhasedSimulation } from './live-phases';
import { nearestWholePhase } from '../autoscale-live/tick-phase';
import { loadProfile } from './run-matrix';

export const LIVE_PROFILES = ['step-short.json', 'ramp-short.json'].map((f) =>
  path.resolve(__dirname, '..', 'profiles', 'live', f),
);

export interface LiveComparison {
  profile: string;
  policy: PolicyName;
  cpuLimit: number;
  speedup: number;
  rateScale: number;
  measuredCapacity: number | null;
  cpuLimitApplied: unknown;
  loadBefore: string;
  loadAfter: string;
  produced: number;
  sinkRecords: number;
  drained: boolean;
  live: SimulationSummary;
  sim: SimulationSummary;
  /** The calibration's fitted batch cost (live seconds, live records/s), or null. */
  batchCost: BatchCostFit | null;
  /** The simulation with that batch cost in place of the profile's instance (null without a fit). */
  simFitted: SimulationSummary | null;
  /** Each live scale-out's time until its instances all read rows, profile seconds (startup.ts). */
  scaleOutsOnline: ScaleOutOnline[];
  /** Where the live lag was over the objective (profile seconds). */
  violations: ViolationSpan[];
  /** The first instance's warm-up before the profile's clock (run-live.ts WARMUP_MS). */
  warmup: LiveResult['warmup'];
  /** Their median (null: none came online), what `simOnline` charges a new instance. */
  onlineSeconds: number | null;
  /** The new instances' first batches against the fitted line (null: none, or no fit). */
  coldFirstBatch: ColdFirstBatch | null;
  /**
   * The fitted simulation (the plain one without a fit) whose new instances take the live run's
   * median time to read: start-up under the CPU quota is measured, not the profile's figure, and
   * (since 2026-12-06 16:00 UTC; with a fit) split into the start-up and a cold first batch.
   */
  simOnline: SimulationSummary | null;
  /**
   * The calibration's 1 → 2 trials: median online time and first batch (profile s); null: none.
   * `bySize`: every trial (1 → 2 and, since 2026-12-07 15:00 UTC, 1 → the most instances) by the
   * instances it added; null without a 1 → 2 that came online.
   */
  calibratedScaleOut: {
    onlineSeconds: number;
    coldFirstBatch: ColdFirstBatch | null;
    trials: number;
    bySize: StartupBySize | null;
  } | null;
  /** Every calibration trial as read (scale-out-calibration.ts), 1 → 2 and 1 → the most. */
  scaleOutTrials: ScaleOutOnline[];
  /**
   * The fitted simulation (the plain one without a fit) whose new instances start as the
   * calibration's trials did: measured before the run, so a prediction (since 2026-12-06 20:00 UTC).
   */
  simPredicted: SimulationSummary | null;
  /**
   * The line fitted on the calibration query's rounds as the live loop charges them (run-live.ts
   * `chargedLine`, batch-cost.ts `chargedRounds`); null without one.
   */
  chargedLine: BatchCostFit | null;
  /**
   * A second prediction, made before the run like `simPredicted` (since 2026-12-07 15:30 UTC): on
   * the charged line, with the trials' start-up before their first batch (`bySize`: the 1 → 2s',
   * growing by `perAddedSeconds` for each instance a scale-out adds beyond the first) and every
   * trial's first batches over that line as the cold first batch; the simulator sizes and prices
   * the first batch itself. (Live run R, 15:06, had in its place the wall-time line with the fixed
   * cost that makes a trigger-sized batch fill the trigger: BENCHMARKS.md.)
   */
  simCharged: SimulationSummary | null;
  /**
   * What a new process's first COLD_BATCHES batches ran over the charged line (profile s,
   * startup.ts `coldBatchesExtra`): in the trials (before the run) and in the run's own scale-outs
   * (not a prediction); null: no instance ran that many, or no charged line.
   */
  coldBatches: { trials: number | null; live: number | null };
  /**
   * A third prediction (since 2026-12-07 21:30 UTC, first judged on run Y): `simCharged` with the
   * trials' cold batches' extra (`coldBatches.trials`) in place of their first batch's; null
   * without it. Made because the steps of U, V and W ran their second and third batches cold too.
   */
  simChargedCold: SimulationSummary | null;
  /**
   * The live target per simulation (violationsAgree): the plain one (one capacity, the trigger
   * rounds' rate) and the fitted one (the calibration's batch-cost line; null without a fit).
   * Both are calibrated before the live run starts, and so is `vsPredicted` (the fitted one with
   * the calibration's scale-out cost). `vsOnline` is not a prediction: its start-up and first
   * batch are measured in the run it is compared with, so it says how much of the gap they explain.
   */
  target: {
    vsSim: boolean;
    vsFitted: boolean | null;
    vsPredicted: boolean | null;
    vsOnline: boolean | null;
    vsCharged: boolean | null;
    vsChargedCold: boolean | null;
  };
  /**
   * The live engines' batch bound in profile units, which every simulation above applies (since
   * 2026-12-07 12:00 UTC; before, the bound of engines on the profile's own clock: a 10 s budget
   * where live engines had 4 live s = 40 profile s, and the simulated steps' longest batches came
   * out 10–13 profile s against 22–37 live in runs K–O).
   */
  batchBound: BatchBoundUnits;
  /**
   * Every simulation above is the middle of one run per phase of the loop's ticks (live-phases.ts,
   * since live run M of 2026-12-07; before, one run with 15 s ticks at the profile seed's phase
   * and the simulated Spark PID on): its ticks and the least and most violation seconds over the
   * phases.
   */
  phases: {
    tickSeconds: number;
    sim: [number, number];
    simFitted: [number, number] | null;
    simOnline: [number, number] | null;
    simPredicted: [number, number] | null;
    simCharged: [number, number] | null;
    simChargedCold: [number, number] | null;
  };
  /**
   * Each simulation's run at the phase the live loop's ticks actually had (run-live.ts
   * `tickPhase`, nearest whole second), and the live target read against the predicted one there.
   * The phase is measured in the run, but it is set by when the profile's clock started against
   * the control plane's timer, not by the engines: the runs at every phase are fixed before the
   * run, and the phase picks one (since 2026-12-07 12:00 UTC). null: no ticks seen.
   */
  atLivePhase: {
    liveSeconds: number;
    spreadSeconds: number;
    simulatedPhase: number;
    liveActionSeconds: number[];
    sim: PhaseFigures | null;
    simFitted: PhaseFigures | null;
    simPredicted: PhaseFigures | null;
    simOnline: PhaseFigures | null;
    simCharged: PhaseFigures | null;
    simChargedCold: PhaseFigures | null;
    vsPredicted: boolean | null;
    vsCharged: boolean | null;
    vsChargedCold: boolean | null;
  } | null;
  /** The live run's batches and samples (run-live.ts `trace`), for judging models afterwards. */
  trace: LiveResult['trace'];
}

/** What the report shows of one simulation at one phase. */
export interface PhaseFigures {
  sloViolationSeconds: number;
  maxLagSeconds: number;
  actionSeconds: number[];
}

/** A phased simulation's run at `phase` (whole profile seconds), or null without that simulation. */
export function figuresAtPhase(s: PhasedSimulation | null, phase: number): PhaseFigures | null {
  const run = s?.byPhase[phase];
  if (!run) return null;
  return {
    sloViolationSeconds: run.summary.sloViolationSeconds,
    maxLagSeconds: run.summary.maxLagSeconds,
    actionSeconds: run.actionSeconds,
  };
}

/**
 * Issue 19's live target, read two-sided: do the live violation seconds agree with a simulation's
 * within a factor of 2 either way? Two sessions read "live 0 against 44 simulated" as met (live no
 * worse than 2× the simulation); it is not within a factor of 2 both ways, so the bench now says
 * which it is. Values closer than one live sample also agree: the live run samples the lag once a
 * live second, and each sample stands for `speedup` profile seconds of violation, so 0 against 1
 * is below what the live run can tell apart, where a ratio would call it infinitely far.
 */
export function violationsAgree(live: number, sim: number, speedup: number): boolean {
  if (Math.abs(live - sim) <= speedup) return true;
  const lo = Math.min(live, sim);
  return lo > 0 && Math.max(live, sim) / lo <= 2;
}

const METRICS = [
  'sloViolationSeconds',
  'instanceSeconds',
  'scaleActions',
  'oscillations',
  'reversals',
  'actionsToConverge',
  'maxLagSeconds',
  'maxBatchDurationSeconds',
  'lostRecords',
] as const;

/** The profile as the live run could play it: its partitions and instance range. */
export function simulatedCounterpart(profile: Profile, live: LiveResult): Profile {
  return {
    ...profile,
    partitions: live.partitions,
    instance: { ...profile.instance, minInstances: live.minInstances, maxInstances: live.maxInstances },
  };
}

export async function compareLive(
  files: string[],
  o: { policy: PolicyName; cpuLimit: number; speedup: number; port: number },
  log: (m: string) => void,
): Promise<LiveComparison[]> {
  const out: LiveComparison[] = [];
  for (const file of files) {
    const profile = loadProfile(file);
    log(`${profile.name}: live run (${profile.durationSeconds / o.speedup} s of load after calibration)`);
    const live = await runLive(
      {
        profile,
        policy: o.policy,
        speedup: o.speedup,
        cpuLimit: o.cpuLimit,
        port: o.port,
        drainTimeoutMs: 180_000,
      },
      (m) => log(`  ${m}`),
    );
    const counterpart = simulatedCounterpart(profile, live);
    const bound = liveBatchBound({
      rateScale: live.rateScale,
      speedup: o.speedup,
      triggerMs: live.triggerMs,
    });
    const sim = simulateAsLive(counterpart, o.policy, bound);
    const batchCost = live.calibration?.batchCost ?? null;
    // The fitted profile (the plain counterpart without a fit): simFitted runs it, simOnline too
    // with the live start-up.
    const calibrated = batchCost
      ? profileWithBatchCost(counterpart, batchCost, { rateScale: live.rateScale, speedup: o.speedup })
      : counterpart;
    const simFitted = batchCost ? simulateAsLive(calibrated, o.policy, bound) : null;
    const onlineSeconds = medianOnlineSeconds(live.scaleOutsOnline);
    const cold = batchCost ? coldFirstBatch(live.scaleOutsOnline, batchCost, o.speedup) : null;
    const simOnline =
      onlineSeconds === null
        ? null
        : simulateAsLive(profileWithOnlineSeconds(calibrated, onlineSeconds, cold), o.policy, bound);
    const trials = live.scaleOutCalibration?.trials ?? [];
    // simPredicted keeps to the 1 → 2 trials, as before the larger trials were added.
    const oneTrials = trials.filter((t) => t.to - t.from === 1);
    const calOnline = medianOnlineSeconds(oneTrials);
    const bySize = startupBySize(trials);
    const calibratedScaleOut =
      calOnline === null
        ? null
        : {
            onlineSeconds: calOnline,
            coldFirstBatch: batchCost ? coldFirstBatch(oneTrials, batchCost, o.speedup) : null,
            trials: oneTrials.length,
            bySize,
          };
    const simPredicted =
      calibratedScaleOut === null
        ? null
        : simulateAsLive(
            profileWithOnlineSeconds(
              calibrated,
              calibratedScaleOut.onlineSeconds,
              calibratedScaleOut.coldFirstBatch,
            ),
            o.policy,
            bound,
          );
    const charged = live.chargedLine;
    const simCharged =
      charged === null || bySize === null
        ? null
        : simulateAsLive(
            profileWithStartup(
              profileWithBatchCost(counterpart, charged, { rateScale: live.rateScale, speedup: o.speedup }),
              bySize,
              coldFirstBatch(trials, charged, o.speedup)?.extraSeconds ?? 0,
            ),
            o.policy,
            bound,
          );
    const coldBatches = {
      trials: charged === null ? null : coldBatchesExtra(trials, charged, o.speedup),
      live: charged === null ? null : coldBatchesExtra(live.scaleOutsOnline, charged, o.speedup),
    };
    const simChargedCold =
      charged === null || bySize === null || coldBatches.trials === null
        ? null
        : simulateAsLive(
            profileWithStartup(
              profileWithBatchCost(counterpart, charged, { rateScale: live.rateScale, speedup: o.speedup }),
              bySize,
              coldBatches.trials,
            ),
            o.policy,
            bound,
          );
    /** The live target against one simulation's figures (its middle run, or its run at a phase). */
    const agreesWith = (f: { sloViolationSeconds: number } | null) =>
      f === null ? null : violationsAgree(live.summary.sloViolationSeconds, f.sloViolationSeconds, o.speedup);
    const agrees = (s: PhasedSimulation | null) => agreesWith(s?.summary ?? null);
    const range = (s: PhasedSimulation | null) => s?.violationRange ?? null;
    const ticks = live.tickPhase;
    const phase = ticks ? nearestWholePhase(ticks.seconds, LIVE_TICK_SECONDS) : null;
    const predictedAtPhase = phase === null ? null : figuresAtPhase(simPredicted, phase);
    const chargedAtPhase = phase === null ? null : figuresAtPhase(simCharged, phase);
    const chargedColdAtPhase = phase === null ? null : figuresAtPhase(simChargedCold, phase);
    out.push({
      profile: profile.name,
      policy: o.policy,
      cpuLimit: o.cpuLimit,
      speedup: o.speedup,
      rateScale: live.rateScale,
      measuredCapacity: live.measuredCapacity,
      cpuLimitApplied: live.cpuLimitApplied,
      loadBefore: live.loadBefore,
      loadAfter: live.loadAfter,
      produced: live.produced,
      sinkRecords: live.sinkRecords,
      drained: live.drained,
      live: live.summary,
      sim: sim.summary,
      batchCost,
      simFitted: simFitted?.summary ?? null,
      scaleOutsOnline: live.scaleOutsOnline,
      violations: live.violations,
      warmup: live.warmup,
      onlineSeconds,
      coldFirstBatch: cold,
      simOnline: simOnline?.summary ?? null,
      calibratedScaleOut,
      scaleOutTrials: trials,
      simPredicted: simPredicted?.summary ?? null,
      chargedLine: charged,
      simCharged: simCharged?.summary ?? null,
      coldBatches,
      simChargedCold: simChargedCold?.summary ?? null,
      target: {
        vsSim: violationsAgree(live.summary.sloViolationSeconds, sim.summary.sloViolationSeconds, o.speedup),
        vsFitted: agrees(simFitted),
        vsPredicted: agrees(simPredicted),
        vsOnline: agrees(simOnline),
        vsCharged: agrees(simCharged),
        vsChargedCold: agrees(simChargedCold),
      },
      batchBound: bound,
      phases: {
        tickSeconds: LIVE_TICK_SECONDS,
        sim: sim.violationRange,
        simFitted: range(simFitted),
        simOnline: range(simOnline),
        simPredicted: range(simPredicted),
        simCharged: range(simCharged),
        simChargedCold: range(simChargedCold),
      },
      atLivePhase:
        ticks === null || phase === null
          ? null
          : {
              liveSeconds: ticks.seconds,
              spreadSeconds: ticks.spreadSeconds,
              simulatedPhase: phase,
              liveActionSeconds: live.actions.map((a) => +a.timeSeconds.toFixed(1)),
              sim: figuresAtPhase(sim, phase),
              simFitted: figuresAtPhase(simFitted, phase),
              simPredicted: predictedAtPhase,
              simOnline: figuresAtPhase(simOnline, phase),
              simCharged: chargedAtPhase,
              simChargedCold: chargedColdAtPhase,
              vsPredicted: agreesWith(predictedAtPhase),
              vsCharged: agreesWith(chargedAtPhase),
              vsChargedCold: agreesWith(chargedColdAtPhase),
            },
      trace: live.trace,
    });
  }
  return out;
}

/** The trials by instances added, and the start-up per instance added that follows. */
function bySizeText(b: StartupBySize | null): string {
  if (b === null) return '';
  const sizes = b.sizes
    .map((x) => `${x.added} added: online ${x.onlineSeconds} s, start-up ${x.startupSeconds} s (${x.count})`)
    .join('; ');
  const floor =
    b.perAddedSeconds === b.measuredPerAddedSeconds ? '' : ` (measured ${b.measuredPerAddedSeconds} s)`;
  return `; all trials by instances added (start-up = online less the longest new first batch): ${sizes}; ${b.perAddedSeconds} s more start-up per instance beyond the first${floor}`;
}

function cell(v: unknown): string {
  return v === null || v === undefined ? '–' : String(v);
}

/** One Markdown table per profile: metric, sim, live, gap. */
export function comparisonTables(rows: LiveComparison[]): string {
  return rows
    .map((r) => {
      const gap = (s: unknown, l: unknown) =>
        typeof s === 'number' && typeof l === 'number' ? +(l - s).toFixed(2) : '–';
      const table = markdownTable(
        [
          r.profile,
          'sim',
          'sim (fitted batch cost)',
          'sim (+ calibrated start-up)',
          'sim (+ live start-up)',
          'sim (charged line)',
          'sim (charged line, cold batches)',
          'live',
          'gap (live − sim)',
          'gap (live − fitted)',
          'gap (live − + calibrated)',
          'gap (live − + live start-up)',
          'gap (live − charged line)',
          'gap (live − cold batches)',
        ],
        METRICS.map((m) => {
          const s = r.sim[m];
          const f = r.simFitted?.[m];
          const p = r.simPredicted?.[m];
          const u = r.simOnline?.[m];
          const t = r.simCharged?.[m];
          const c = r.simChargedCold?.[m];
          const l = r.live[m];
          return [
            m,
            cell(s),
            cell(f),
            cell(p),
            cell(u),
            cell(t),
            cell(c),
            cell(l),
            cell(gap(s, l)),
            cell(gap(f, l)),
            cell(gap(p, l)),
            cell(gap(u, l)),
            cell(gap(t, l)),
            cell(gap(c, l)),
          ];
        }),
      );
      const fit = r.batchCost
        ? `fitted live batch cost ${r.batchCost.overheadSeconds.toFixed(3)} s + rows ÷ ${Math.round(r.batchCost.recordsPerSecond)}/s over ${r.batchCost.batches} batches of ${r.batchCost.minRows}–${r.batchCost.maxRows} rows`
        : 'batch cost not identifiable from the calibration (no fitted simulation)';
      const line = r.chargedLine
        ? `charged line ${r.chargedLine.overheadSeconds.toFixed(3)} s + rows ÷ ${Math.round(r.chargedLine.recordsPerSecond)}/s over ${r.chargedLine.batches} calibration rounds as the live loop charges them`
        : 'no charged line';
      const online = `scale-outs online after (profile s): ${
        r.scaleOutsOnline
          .map(
            (x) =>
              `${Math.round(x.timeSeconds)} s ${x.from}→${x.to}: ${x.onlineSeconds ?? 'never'}` +
              (x.firstBatchSeconds !== null
                ? ` (new instances' first batch up to ${x.firstBatchSeconds} s)`
                : '') +
              (x.after && r.measuredCapacity !== null
                ? ` (then ${x.after.rowsPerLiveSecond} rows/s live against ${x.to} × ${Math.round(r.measuredCapacity)} calibrated, ${Math.round(x.after.rateLimitedShare * 100)} % of batches with a rate limit set)`
                : ''),
          )
          .join(', ') || 'none'
      }; median ${r.onlineSeconds ?? '–'} s (the simulation's start-up is that minus its rebalance pause${
        r.coldFirstBatch
          ? ` and the new instances' median first batch, ${r.coldFirstBatch.seconds} s, of which ${r.coldFirstBatch.extraSeconds} s over the fitted line it adds to a new instance's first batch`
          : ''
      })`;
      const calibratedOut = r.calibratedScaleOut
        ? `calibration's scale-outs online after a median ${r.calibratedScaleOut.onlineSeconds} s over ${r.calibratedScaleOut.trials} trials${
            r.calibratedScaleOut.coldFirstBatch
              ? ` (first batch ${r.calibratedScaleOut.coldFirstBatch.seconds} s, ${r.calibratedScaleOut.coldFirstBatch.extraSeconds} s over the fitted line)`
              : ''
          }${bySizeText(r.calibratedScaleOut.bySize)}`
        : 'no calibrated scale-out';
      const agree = (b: boolean | null) => (b === null ? '–' : b ? 'yes' : 'NO');
      const spread = (name: string, v: [number, number] | null) => (v ? `${name} ${v[0]}–${v[1]}` : null);
      const bound = `simulated engines bound their batches as the live ones: ${r.batchBound.budgetSeconds} profile s of budget, ${Math.round(r.batchBound.initialRecords)} records before a measurement, ${Math.round(r.batchBound.minRecords)} at least (profile units)`;
      const phases = `simulated with ticks every ${r.phases.tickSeconds} s, each figure the middle of one run per phase; violation seconds over the phases: ${[
        spread('sim', r.phases.sim),
        spread('fitted', r.phases.simFitted),
        spread('+ calibrated', r.phases.simPredicted),
        spread('+ live start-up', r.phases.simOnline),
        spread('charged line', r.phases.simCharged),
        spread('cold batches', r.phases.simChargedCold),
      ]
        .filter((x) => x !== null)
        .join(', ')}`;
      const a = r.atLivePhase;
      const atPhase = (name: string, f: PhaseFigures | null) =>
        f
          ? `${name} ${f.sloViolationSeconds} violation s, max lag ${f.maxLagSeconds} s, scaled at ${f.actionSeconds.join(', ') || 'never'}`
          : null;
      const livePhase = a
        ? `the loop's ticks fell ${a.liveSeconds} s after each multiple of ${r.phases.tickSeconds} s (± ${a.spreadSeconds} s); the live loop scaled at ${a.liveActionSeconds.join(', ') || 'never'}; the runs at phase ${a.simulatedPhase}: ${[
            atPhase('sim', a.sim),
            atPhase('fitted', a.simFitted),
            atPhase('+ calibrated', a.simPredicted),
            atPhase('+ live start-up', a.simOnline),
            atPhase('charged line', a.simCharged),
            atPhase('cold batches', a.simChargedCold),
          ]
            .filter((x) => x !== null)
            .join(
              '; ',
            )}; live violation seconds within 2× of the calibrated one at that phase ${agree(a.vsPredicted)}, of the charged line's ${agree(a.vsCharged)}, of the cold batches' ${agree(a.vsChargedCold)}`
        : "the loop's ticks were not seen";
      const target = `live violation seconds within 2× either way (or one live sample, ${r.speedup} s): of the simulation ${agree(r.target.vsSim)}, of the fitted simulation ${agree(r.target.vsFitted)}, of the one with the calibrated start-up ${agree(r.target.vsPredicted)}, of the one on the charged line ${agree(r.target.vsCharged)}, of the one with the cold batches ${agree(r.target.vsChargedCold)}; of the one with the run's own start-up (an explanation, not a prediction) ${agree(r.target.vsOnline)}`;
      const cold = `a new process's first ${COLD_BATCHES} batches over the charged line: ${cell(r.coldBatches.trials)} s in the trials, ${cell(r.coldBatches.live)} s in this run`;
      const capacity =
        r.measuredCapacity === null ? 'not measured' : `${Math.round(r.measuredCapacity)} records/s`;
      const warm = r.warmup
        ? `first instance warmed ${(r.warmup.liveMs / 1000).toFixed(1)} s live before the profile (lag then ${r.warmup.lagSeconds.toFixed(2)} s live)`
        : 'no warm-up';
      return [
        `${r.profile}: ${r.policy}, ${r.cpuLimit} CPU per engine (${JSON.stringify(r.cpuLimitApplied)}), one limited engine ${capacity} → rates × ${r.rateScale.toFixed(3)}, speedup ${r.speedup}; ${warm}; ${fit}; ${line}; ${calibratedOut}; ${online}; ${cold}; produced ${r.produced}, sink ${r.sinkRecords}${r.drained ? '' : ' (lag not drained in time: lostRecords counts the backlog left)'}; load ${r.loadBefore} → ${r.loadAfter}; live over the objective: ${formatSpans(r.violations)}; ${bound}; ${phases}; ${livePhase}; ${target}`,
        '',
        table,
      ].join('\n');
    })
    .join('\n\n');
}
