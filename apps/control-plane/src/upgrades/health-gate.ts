// The health gate of an upgrade, as a pure function: given what was observed of the new version
// since it started, say pass, fail (with the reason) or wait. Modelled on the Flink Kubernetes
// Operator, which rolls back a job that is not stable within a readiness timeout; Sluice judges
// stability by what a streaming query owes its users: batches that commit, no crash, no more
// invalid rows than before, and lag that does not run away.

export interface HealthGateSettings {
  /** Batches the new version must commit (every instance at least one) … */
  batches: number;
  /** … within this many seconds of the gate opening. */
  windowSeconds: number;
  /** Largest growth of the time lag (max seconds behind over partitions) while judging. */
  maxLagGrowthSeconds: number;
  /**
   * How much higher (a fraction of input rows, 0.01 = 1 percentage point) the new version's
   * invalid-row rate may be than the old version's before the upgrade.
   */
  maxInvalidRateIncrease: number;
}

export const DEFAULT_HEALTH_GATE: HealthGateSettings = {
  batches: 3,
  windowSeconds: 60,
  maxLagGrowthSeconds: 30,
  maxInvalidRateIncrease: 0.01,
};

/**
 * Failed triggers in a row on one instance that fail the gate at once. A healthy version can
 * lose one trigger at its start (the start-up rebalance fences a producer: BENCHMARKS.md,
 * "Upgrades"); the engine itself gives up after 5, and a gate that waited for that exit would let
 * an engine whose failures alternate with source-only triggers run out the whole window.
 */
export const FAILED_TRIGGERS_IN_A_ROW = 3;

export interface GateObservation {
  elapsedMs: number;
  /**
   * Batches committed to the sink by the new version, with rows written (or none refused), plus
   * idle reports of a caught-up source (progress-figures.ts versionFigures).
   */
  batches: number;
  /** Instances of the new version that should run, and those that committed a trigger (or reported idle). */
  instances: number;
  instancesReporting: number;
  /** Abnormal exits of new-version instances since they started, with the reason of the last one. */
  crashes: number;
  lastCrash?: string | null;
  /** Why the new version's last failed trigger failed (failed triggers are not batches). */
  lastTriggerError?: string | null;
  /** The longest run of failed triggers an instance of the new version is in now, and which. */
  failingInARow?: number;
  failingInstance?: string | null;
  failingError?: string | null;
  /** Invalid rows / input rows of the old version before the upgrade; null when it read nothing. */
  invalidRateBefore: number | null;
  invalidRows: number;
  inputRows: number;
  /**
   * Dead-lettered / all output rows of the old version before the upgrade (null when it output
   * nothing), and the new version's output rows written and dead-lettered. Judged apart from the
   * invalid-row rate: output rows are far fewer than input rows in an aggregation, so a sink that
   * refuses every row can stay under an input-based rate.
   */
  deadLetterRateBefore?: number | null;
  writtenOutputRows?: number;
  deadLetteredOutputRows?: number;
  /** Max seconds behind when the gate opened, and now; null when unknown. */
  lagSecondsAtStart: number | null;
  lagSecondsNow: number | null;
}

export type GateVerdict =
  { verdict: 'wait' } | { verdict: 'pass'; summary: string } | { verdict: 'fail'; reason: string };

const pct = (r: number): string => `${(r * 100).toFixed(2)} %`;

export function invalidRate(invalidRows: number, inputRows: number): number | null {
  return inputRows > 0 ? invalidRows / inputRows : invalidRows > 0 ? 1 : null;
}

export function judgeGate(o: GateObservation, s: HealthGateSettings): GateVerdict {
  if (o.crashes > 0)
    return {
      verdict: 'fail',
      reason: `an instance of the new version crashed${o.lastCrash ? `: ${o.lastCrash}` : ''}`,
    };
  const failing = o.failingInARow ?? 0;
  if (failing >= FAILED_TRIGGERS_IN_A_ROW)
    return {
      verdict: 'fail',
      reason: `${failing} triggers in a row failed${o.failingInstance ? ` on ${o.failingInstance}` : ''}${o.failingError ? `; last error: ${o.failingError}` : ''}`,
    };
  // Output rows first: the sharper figure (a sink that refuses this version's rows), and the
  // dead letters of refused output rows also count in the invalid-row rate.
  const dead = o.deadLetteredOutputRows ?? 0;
  const output = (o.writtenOutputRows ?? 0) + dead;
  const deadAfter = invalidRate(dead, output);
  const deadBefore = o.deadLetterRateBefore ?? 0;
  if (deadAfter !== null && deadAfter > deadBefore + s.maxInvalidRateIncrease)
    return {
      verdict: 'fail',
      reason: `dead-letter rate of output rows ${pct(deadAfter)} (${dead} of ${output} rows) against ${pct(deadBefore)} before the upgrade (at most ${pct(s.maxInvalidRateIncrease)} more allowed)`,
    };
  const after = invalidRate(o.invalidRows, o.inputRows);
  const before = o.invalidRateBefore ?? 0;
  // Judged as soon as it is certain: a version whose sink refuses everything need not wait for
  // the window (its triggers succeed, with dead letters for output).
  if (after !== null && after > before + s.maxInvalidRateIncrease)
    return {
      verdict: 'fail',
      reason: `invalid-row rate ${pct(after)} (${o.invalidRows} of ${o.inputRows} rows) against ${pct(before)} before the upgrade (at most ${pct(s.maxInvalidRateIncrease)} more allowed)`,
    };
  const enough = o.batches >= s.batches && o.instancesReporting >= o.instances;
  if (!enough) {
    if (o.elapsedMs < s.windowSeconds * 1000) return { verdict: 'wait' };
    return {
      verdict: 'fail',
      reason: `${o.batches} of ${s.batches} batches committed (${o.instancesReporting} of ${o.instances} instances) within ${s.windowSeconds} s${o.lastTriggerError ? `; last failed trigger: ${o.lastTriggerError}` : ''}`,
    };
  }
  const growth =
    o.lagSecondsAtStart !== null && o.lagSecondsNow !== null ? o.lagSecondsNow - o.lagSecondsAtStart : null;
  if (growth !== null && growth > s.maxLagGrowthSeconds)
    return {
      verdict: 'fail',
      reason: `time lag grew by ${growth.toFixed(1)} s (${o.lagSecondsAtStart!.toFixed(1)} → ${o.lagSecondsNow!.toFixed(1)} s; at most ${s.maxLagGrowthSeconds} s)`,
    };
  return {
    verdict: 'pass',
    summary: `${o.batches} batches committed in ${(o.elapsedMs / 1000).toFixed(1)} s by ${o.instances} instance(s), no crash, invalid-row rate ${after === null ? 'n/a' : pct(after)} (before ${pct(before)}), output rows dead-lettered ${deadAfter === null ? 'n/a' : pct(deadAfter)} (before ${pct(deadBefore)}), time lag ${growth === null ? 'unknown' : `${growth >= 0 ? '+' : ''}${growth.toFixed(1)} s`}`,
  };
}
