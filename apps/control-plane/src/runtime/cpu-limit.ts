// Per-instance CPU limits for the local runtime, as Kubernetes gives pods a CPU limit: each engine
// process is moved into its own cgroup with a CFS quota. cgroup v2 (`cpu.max` = "quota period")
// is used where the unified hierarchy has the cpu controller; cgroup v1 (`cpu.cfs_quota_us` and
// `cpu.cfs_period_us` under the cpu hierarchy) elsewhere. Without either (no cgroup filesystem,
// not writable, e.g. not root or a read-only container mount), the instance runs unlimited and the
// caller gets the reason to log: a limit is never silently pretended.
import fs from 'node:fs';
import path from 'node:path';
import { cpuLimitProblem, MAX_CPU_LIMIT, MIN_CPU_LIMIT } from '@sluice/contracts';

// The bounds are the contracts' (one source for the API, the CLI and the dashboard).
export { MAX_CPU_LIMIT, MIN_CPU_LIMIT };

/** CFS period used for every limit (the kernel's and Kubernetes' default, 100 ms). */
export const CPU_PERIOD_US = 100_000;
/** Parent group for every engine group, so they are easy to find and clean up. */
export const CGROUP_PARENT = 'sluice-engines';

export type CgroupVersion = 'v2' | 'v1' | 'none';

export type CpuLimitResult =
  | { applied: true; version: 'v1' | 'v2'; group: string; quotaUs: number; periodUs: number }
  | { applied: false; reason: string };

/**
 * What a user sees of an instance's CPU limit (the instance view of the query): the limit the
 * query asked for and whether the runtime applied it, or why not. `requested: null` = unlimited.
 */
export interface CpuLimitReport {
  requested: number | null;
  applied: boolean;
  version?: 'v1' | 'v2';
  quotaUs?: number;
  periodUs?: number;
  reason?: string;
}

export function cpuLimitReport(requested: number | null, result: CpuLimitResult | null): CpuLimitReport {
  if (requested === null || result === null) return { requested: null, applied: false };
  if (!result.applied) return { requested, applied: false, reason: result.reason };
  return {
    requested,
    applied: true,
    version: result.version,
    quotaUs: result.quotaUs,
    periodUs: result.periodUs,
  };
}

/** Which cgroup interface `root` offers for CPU quotas. */
export function detectCgroup(root = '/sys/fs/cgroup'): CgroupVersion {
  const controllers = path.join(root, 'cgroup.controllers');
  if (fs.existsSync(controllers) && fs.readFileSync(controllers, 'utf8').split(/\s+/).includes('cpu'))
    return 'v2';
  if (fs.existsSync(path.join(root, 'cpu', 'cpu.cfs_quota_us'))) return 'v1';
  return 'none';
}

/** Validates a limit in cores; throws a RangeError naming the field. */
export function checkCpuLimit(cpus: number): number {
  const problem = cpuLimitProblem(cpus);
  if (problem) throw new RangeError(problem);
  return cpus;
}

/** Group names come from instance names; anything but [A-Za-z0-9_.-] is replaced. */
function groupName(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 200);
  if (safe === '' || safe === '.' || safe === '..') throw new RangeError(`bad cgroup name "${name}"`);
  return safe;
}

/**
 * Puts process `pid` into its own group limited to `cpus` cores. The process runs unlimited from
 * spawn until this call (a few milliseconds).
 */
export function applyCpuLimit(
  pid: number,
  cpus: number,
  name: string,
  root = '/sys/fs/cgroup',
): CpuLimitResult {
  checkCpuLimit(cpus);
  if (!Number.isInteger(pid) || pid <= 0) throw new RangeError(`pid must be a positive integer, got ${pid}`);
  const version = detectCgroup(root);
  if (version === 'none') return { applied: false, reason: `no cgroup cpu controller under ${root}` };
  const quotaUs = Math.max(1000, Math.round(cpus * CPU_PERIOD_US));
  try {
    if (version === 'v2') {
      const parent = path.join(root, CGROUP_PARENT);
      fs.mkdirSync(parent, { recursive: true });
      // Children of a v2 group get the cpu controller only when the parent delegates it.
      fs.writeFileSync(path.join(root, 'cgroup.subtree_control'), '+cpu');
      fs.writeFileSync(path.join(parent, 'cgroup.subtree_control'), '+cpu');
      const group = path.join(parent, groupName(name));
      fs.mkdirSync(group, { recursive: true });
      fs.writeFileSync(path.join(group, 'cpu.max'), `${quotaUs} ${CPU_PERIOD_US}`);
      fs.writeFileSync(path.join(group, 'cgroup.procs'), String(pid));
      return { applied: true, version, group, quotaUs, periodUs: CPU_PERIOD_US };
    }
    const group = path.join(root, 'cpu', CGROUP_PARENT, groupName(name));
    fs.mkdirSync(group, { recursive: true });
    fs.writeFileSync(path.join(group, 'cpu.cfs_period_us'), String(CPU_PERIOD_US));
    fs.writeFileSync(path.join(group, 'cpu.cfs_quota_us'), String(quotaUs));
    fs.writeFileSync(path.join(group, 'cgroup.procs'), String(pid));
    return { applied: true, version, group, quotaUs, periodUs: CPU_PERIOD_US };
  } catch (err) {
    return {
      applied: false,
      reason: `cgroup ${version}: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}

/**
 * Lifts the quota of a group made by applyCpuLimit (the process stays in it): a query whose limit
 * is removed runs unlimited without a restart.
 */
export function clearCpuLimit(group: string): { cleared: true } | { cleared: false; reason: string } {
  try {
    if (fs.existsSync(path.join(group, 'cpu.max'))) fs.writeFileSync(path.join(group, 'cpu.max'), 'max');
    else fs.writeFileSync(path.join(group, 'cpu.cfs_quota_us'), '-1');
    return { cleared: true };
  } catch (err) {
    return { cleared: false, reason: err instanceof Error ? err.message : String(err) };
  }
}

/** Removes an instance's group once its processes are gone (the kernel refuses while in use). */
export function removeCpuGroup(group: string): void {
  try {
    fs.rmdirSync(group);
  } catch {
    // still in use or already gone: left for the next start of the same instance
  }
}

/** CPU seconds (user + system) a process has used, from /proc/PID/stat. */
export function processCpuSeconds(pid: number, clockTicks = 100): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line: 12th and 13th after the name.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / clockTicks;
}
