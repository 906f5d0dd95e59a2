// The bounds of a query's CPU limit per engine instance (cores), shared by the API's validation,
// the runtimes, the CLI and the dashboard. Dependency-free: the CLI and the dashboard load this
// file alone. Below 0.01 core (1 ms per 100 ms period) the kernel refuses a CFS quota.
export const MIN_CPU_LIMIT = 0.01;
export const MAX_CPU_LIMIT = 64;

/** Why `cores` is not a valid CPU limit, or null when it is. */
export function cpuLimitProblem(cores: number): string | null {
  if (typeof cores !== 'number' || !Number.isFinite(cores) || cores < MIN_CPU_LIMIT || cores > MAX_CPU_LIMIT)
    return `cpuLimit must be a number of cores from ${MIN_CPU_LIMIT} to ${MAX_CPU_LIMIT}, got ${String(cores)}`;
  return null;
}

/**
 * A CPU limit typed by a person: cores ("0.25"), millicores ("250m") or "none" (no limit → null).
 * Throws a RangeError naming the field and the bounds for anything else.
 */
export function parseCpuLimit(text: string): number | null {
  const t = text.trim();
  if (t === 'none') return null;
  const m = /^(\d{1,6}(?:\.\d{1,6})?)(m?)$/.exec(t);
  if (!m) {
    throw new RangeError(
      `cpuLimit must be cores (e.g. 0.25), millicores (250m) or "none", from ${MIN_CPU_LIMIT} to ${MAX_CPU_LIMIT} cores; got "${text.slice(0, 40)}"`,
    );
  }
  const cores = m[2] === 'm' ? Number(m[1]) / 1000 : Number(m[1]);
  const problem = cpuLimitProblem(cores);
  if (problem) throw new RangeError(problem);
  return cores;
}
