// Bounded numeric options of the live benchmark (both CLIs): a typo must not start a run with
// thousands of engines or a zero rate.
export function liveNumber(
  v: string | undefined,
  what: string,
  min: number,
  max: number,
): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new Error(`--${what} must be a number from ${min} to ${max}`);
  return n;
}
