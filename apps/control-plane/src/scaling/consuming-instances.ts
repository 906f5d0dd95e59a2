// How many of a query's instances are up and consuming: what a policy's `readyInstances` means
// (libs/scaling types.ts). A RUNNING instance is a process that is up; it consumes once it has
// joined the group and run a trigger, which its progress shows. Counting processes instead told the
// policy that a scale-out's instances were ready 3–4 live s before they read (an engine warms its
// batch path and joins the group first): the policy then lifted its scale-out read cap, the old
// owner planned a full catch-up batch, and the new owners fenced it and re-ran its plan cold
// (BENCHMARKS.md, run U: 2.2 live s of the old owner's work lost, first batches of 28–34 profile s).
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
 * RUNNING instances with a progress report from their current process: one whose trigger started
 * at or after the process did. Reports are what the loop read for its window; an instance that
 * reads nothing still reports every 10 s (the engine's idle progress). When no report names its
 * instance (an engine that reports Spark's fields only), reports cannot be told apart: every
 * RUNNING instance counts, as before.
 */
export function consumingInstances(
  instances: readonly InstanceState[],
  reports: readonly ReportedBatch[],
): number {
  const running = instances.filter((i) => i.status === 'RUNNING');
  const newest = new Map<string, number>();
  for (const r of reports) {
    if (r.instance === null) continue;
    const t = r.timestamp.getTime();
    if (t > (newest.get(r.instance) ?? -Infinity)) newest.set(r.instance, t);
  }
  if (newest.size === 0 && reports.length > 0) return running.length;
  return running.filter((i) => (newest.get(i.name) ?? -Infinity) >= i.startedAt.getTime()).length;
}
