// The reconcile decision, as a pure function: given the desired state of one query, the instances
// the runtime observes and the crash history, say which idempotent actions bring the world closer
// and what the status should read. Level-triggered: it never looks at *what changed*, only at
// desired vs observed, so running it twice in a row is harmless.
import { instanceName } from '../runtime/instance-name';

export type InstanceStatus = 'STARTING' | 'RUNNING' | 'DRAINING' | 'EXITED' | 'CRASHED';

export interface DesiredQuery {
  name: string;
  generation: number;
  desiredState: 'RUNNING' | 'STOPPED';
  desiredVersion: number;
  desiredInstances: number;
  failed: boolean;
  triggerIntervalMs: number;
  lastProgressAt: Date | null;
  /** Records behind across partitions; null when unknown. */
  lagRecords: number | null;
  /**
   * The CrashLoop message written when the query went FAILED. Kept as it was while the query
   * stays FAILED: recounting later would read "0 crashes" once the window has passed, and the
   * instance whose log said why is gone by then.
   */
  failureMessage?: string | null;
}

export interface ObservedInstance {
  name: string;
  ordinal: number;
  version: number;
  status: InstanceStatus;
  restarts: number;
  /** When it last exited abnormally. */
  crashedAt: Date | null;
  /** Why it last exited abnormally (the runtime's lastError), when known. */
  lastError?: string | null;
  exitCode?: number | null;
}

export interface ReconcileOptions {
  crashLoopLimit: number; // crashes …
  crashLoopWindowMs: number; // … within this window mark the query FAILED
  backoffBaseMs: number;
  backoffMaxMs: number;
  stalledTriggers: number; // no progress for this many trigger intervals while behind = stalled …
  /**
   * … and for at least this long: a batch that works through a backlog can outlast several short
   * triggers without anything being wrong (the engine reports progress once per batch).
   */
  stalledMinMs: number;
}

export const DEFAULT_RECONCILE_OPTIONS: ReconcileOptions = {
  crashLoopLimit: 5,
  crashLoopWindowMs: 10 * 60_000,
  backoffBaseMs: 1_000,
  backoffMaxMs: 60_000,
  stalledTriggers: 3,
  stalledMinMs: 30_000,
};

export type ReconcileAction =
  | { type: 'start'; name: string; ordinal: number; version: number }
  | { type: 'drain'; name: string; reason: string }
  | { type: 'forget'; name: string };

/** SinkReady is added by the reconciler when a sink connection cannot be resolved at launch. */
export type ConditionType = 'Ready' | 'Reconciling' | 'Degraded' | 'SinkReady' | 'SourceReady';
export interface Condition {
  type: ConditionType;
  status: 'True' | 'False';
  reason: string;
  message: string;
}

export type Phase = 'PENDING' | 'DEPLOYING' | 'RUNNING' | 'STOPPED' | 'DEGRADED' | 'FAILED';

export interface ReconcileDecision {
  actions: ReconcileAction[];
  phase: Phase;
  conditions: Condition[];
  /** Ask to be reconciled again after this long (backoff or pending work); null = only on change. */
  requeueAfterMs: number | null;
  /** True when this pass decides the query has crash-looped. */
  markFailed: boolean;
}

const LIVE: ReadonlySet<InstanceStatus> = new Set(['STARTING', 'RUNNING', 'DRAINING']);

/** An instance's crash in words: its last error line, else its exit code. */
function crashReason(i: ObservedInstance): string {
  if (i.lastError) return i.lastError;
  return i.exitCode != null
    ? `exit code ${i.exitCode} (no error line in its log)`
    : 'exited (no error line in its log)';
}

/**
 * How long a crashed instance waits before its restart: not at all after its first crash (nothing
 * says a second start will fail too, and every second counts towards recovery; kubelet restarts a
 * first crash at once too), then base, 2 × base, … up to the maximum. Together with the crash-loop
 * limit that bounds what a crashing engine costs.
 */
export function backoffMs(restarts: number, o: ReconcileOptions): number {
  if (restarts <= 0) return 0;
  return Math.min(o.backoffBaseMs * 2 ** (restarts - 1), o.backoffMaxMs);
}

export function decideReconcile(
  q: DesiredQuery,
  observed: ObservedInstance[],
  crashTimes: Date[],
  now: Date,
  o: ReconcileOptions = DEFAULT_RECONCILE_OPTIONS,
): ReconcileDecision {
  const actions: ReconcileAction[] = [];
  const live = observed.filter((i) => LIVE.has(i.status));
  const recentCrashes = crashTimes.filter((t) => now.getTime() - t.getTime() <= o.crashLoopWindowMs).length;
  // A crash loop stops restarts of a query that should run. A stopped (or deleted) query has
  // nothing to restart: asking to stop a FAILED query is obeyed — it reads STOPPED once its
  // instances are gone — instead of staying FAILED and failing the stop.
  const crashLoop = q.desiredState === 'RUNNING' && recentCrashes >= o.crashLoopLimit;
  const failed = q.desiredState === 'RUNNING' && (q.failed || crashLoop);
  const target = q.desiredState === 'RUNNING' && !failed ? q.desiredInstances : 0;
  let requeueAfterMs: number | null = null;
  const requeue = (ms: number) => {
    requeueAfterMs = requeueAfterMs === null ? ms : Math.min(requeueAfterMs, ms);
  };

  // Instances that must go: beyond the desired count, or running an old version.
  for (const i of live) {
    if (i.status === 'DRAINING') continue;
    if (i.ordinal >= target)
      actions.push({ type: 'drain', name: i.name, reason: target === 0 ? 'query stopped' : 'scaled in' });
    else if (i.version !== q.desiredVersion)
      actions.push({ type: 'drain', name: i.name, reason: `upgrade to version ${q.desiredVersion}` });
  }
  // Dead instances beyond the target are forgotten so they stop counting.
  for (const i of observed) {
    if (!LIVE.has(i.status) && i.ordinal >= target) actions.push({ type: 'forget', name: i.name });
  }

  for (let ordinal = 0; ordinal < target; ordinal++) {
    const name = instanceName(q.name, ordinal);
    const current = observed.find((i) => i.name === name);
    if (current && LIVE.has(current.status)) {
      // An old-version instance is being drained; its successor starts once it is gone, so two
      // owners never process the same partitions at once.
      if (current.version !== q.desiredVersion) requeue(1_000);
      continue;
    }
    if (current?.status === 'CRASHED' && current.crashedAt) {
      const wait = backoffMs(current.restarts, o) - (now.getTime() - current.crashedAt.getTime());
      if (wait > 0) {
        requeue(wait);
        continue;
      }
    }
    actions.push({ type: 'start', name, ordinal, version: q.desiredVersion });
  }

  const running = live.filter(
    (i) => i.status === 'RUNNING' && i.version === q.desiredVersion && i.ordinal < target,
  ).length;
  const converged =
    actions.length === 0 && requeueAfterMs === null && live.length === target && running === target;
  const conditions: Condition[] = [];
  const stalled =
    !failed &&
    q.desiredState === 'RUNNING' &&
    running > 0 &&
    (q.lagRecords ?? 0) > 0 &&
    q.lastProgressAt !== null &&
    now.getTime() - q.lastProgressAt.getTime() >
      Math.max(o.stalledTriggers * q.triggerIntervalMs, o.stalledMinMs);

  const window = `within ${Math.round(o.crashLoopWindowMs / 60_000)} minutes`;
  const lastCrash = observed
    .filter((i) => i.status === 'CRASHED')
    .sort((a, b) => (b.crashedAt?.getTime() ?? 0) - (a.crashedAt?.getTime() ?? 0))[0];
  let phase: Phase;
  if (failed) {
    phase = 'FAILED';
    const last = lastCrash ? `; last: ${crashReason(lastCrash)}` : '';
    conditions.push({
      type: 'Degraded',
      status: 'True',
      reason: 'CrashLoop',
      message:
        (q.failed && q.failureMessage) ||
        `${recentCrashes} crashes ${window}${last}; restarts stopped (deploy or start the query to retry)`,
    });
  } else if (q.desiredState === 'STOPPED') {
    phase = live.length === 0 ? 'STOPPED' : 'DEPLOYING';
  } else if (stalled) {
    phase = 'DEGRADED';
    conditions.push({
      type: 'Degraded',
      status: 'True',
      reason: 'Stalled',
      message: `no progress for ${Math.round((now.getTime() - (q.lastProgressAt?.getTime() ?? 0)) / 1000)} s while ${q.lagRecords} records are behind`,
    });
  } else {
    phase = converged ? 'RUNNING' : 'DEPLOYING';
    const restarting = lastCrash && lastCrash.ordinal < target ? lastCrash : undefined;
    if (restarting) {
      conditions.push({
        type: 'Degraded',
        status: 'True',
        reason: 'CrashBackoff',
        message: `${restarting.name} crashed: ${crashReason(restarting)}; ${recentCrashes} crash${recentCrashes === 1 ? '' : 'es'} ${window}, restarting with backoff`,
      });
    }
  }
  if (!conditions.some((c) => c.type === 'Degraded')) {
    conditions.push({ type: 'Degraded', status: 'False', reason: 'Healthy', message: '' });
  }
  conditions.unshift(
    {
      type: 'Ready',
      status: converged && q.desiredState === 'RUNNING' && !failed && !stalled ? 'True' : 'False',
      reason: failed
        ? 'Failed'
        : q.desiredState === 'STOPPED'
          ? 'Stopped'
          : converged
            ? 'AllInstancesRunning'
            : 'InstancesPending',
      message: `${running}/${target} instances running version ${q.desiredVersion}`,
    },
    {
      type: 'Reconciling',
      status: converged || failed || (q.desiredState === 'STOPPED' && live.length === 0) ? 'False' : 'True',
      reason: actions.length > 0 ? 'ApplyingChanges' : requeueAfterMs !== null ? 'Waiting' : 'UpToDate',
      message: actions.map((a) => `${a.type} ${a.name}`).join(', '),
    },
  );
  if (!converged && requeueAfterMs === null && !failed) requeue(2_000);
  return { actions, phase, conditions, requeueAfterMs, markFailed: crashLoop && !q.failed };
}
