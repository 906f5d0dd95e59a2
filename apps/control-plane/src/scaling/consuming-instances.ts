// How many of a query's instances are up and consuming: what a policy's `readyInstances` means
// (libs/scaling types.ts), and what the simulator's ready instance is (one that has joined the
// group). A RUNNING instance is a process that is up; it consumes once it has joined the group,
// which the group itself shows (a member of it while it is Stable), and its progress shows after
// its first trigger. Counting processes told the policy that a scale-out's instances were ready
// 3–4 live s before they read (an engine warms its batch path and joins the group first): the
// policy lifted its scale-out read cap, the old owner planned a full catch-up batch, and the new
// owners fenced it and re-ran its plan cold (BENCHMARKS.md, run U). Counting progress alone held
// the cap at the old count's rate for 1.6–2.6 live s after the new instances had joined (run V).
import type { InstanceStatus } from '../generated/prisma/client';

export interface InstanceState {
  name: string;
  status: InstanceStatus;
  /** When the instance's current process was started (the control plane's clock). */
  startedAt: Date;
}

export interface ReportedBatch {
  /** The reporting engine's instance name (progress `sluice.instance`); null when not reported. */
  instance: string | null;
  /** The trigger's start (progress `timestamp`, the engine's clock). */
  timestamp: Date;
}

/**
 * RUNNING instances that have joined: members of the query's Stable consumer group (`joined`,
 * undefined while it rebalances or cannot be read), or with a progress report from their current
 * process: one whose trigger started at or after the process did. Reports are what the loop read
 * for its window; an instance that reads nothing still reports every 10 s (the engine's idle
 * progress). When no report names its instance (an engine that reports Spark's fields only) and
 * the group says nothing, reports cannot be told apart: every RUNNING instance counts, as before.
 *
 * A process killed without leaving the group keeps its member entry until the broker's session
 * timeout (the engine's is 10 s) and its successor takes over the member id: for that long an
 * instance restarted under the same name counts from the entry. Scale-outs start new names.
 */
export function consumingInstances(
  instances: readonly InstanceState[],
  reports: readonly ReportedBatch[],
  joined?: ReadonlySet<string>,
): number {
  const running = instances.filter((i) => i.status === 'RUNNING');
  const newest = new Map<string, number>();
  for (const r of reports) {
    if (r.instance === null) continue;
    const t = r.timestamp.getTime();
    if (t > (newest.get(r.instance) ?? -Infinity)) newest.set(r.instance, t);
  }
  if (newest.size === 0 && reports.length > 0 && joined === undefined) return running.length;
  return running.filter(
    (i) => joined?.has(i.name) === true || (newest.get(i.name) ?? -Infinity) >= i.startedAt.getTime(),
  ).length;
}
