// Where the live scaling loop's ticks fell against the profile's clock. The loop ticks on its own
// timer, started with the control plane, so its phase against the profile is set by when the
// profile's clock started, not by anything the engines do. On a step it moves the simulated
// violation seconds by a factor of several (runs M–O: 0–32, 0–25, 6–136 over the ten phases), so
// a live run is also set beside the simulation at the phase it actually had (live-compare.ts).
// Every evaluation is a stored scaling event stamped with its tick's start (scaling-loop.service.ts).

export interface TickPhase {
  /** Circular mean of the ticks' times modulo the tick interval, profile seconds in [0, tick). */
  seconds: number;
  /** Largest distance of one tick from that mean, profile seconds: the timer's drift and jitter. */
  spreadSeconds: number;
  /** Ticks the phase was read from. */
  ticks: number;
}

/**
 * The phase of ticks at `times` (profile seconds) repeating every `tickSeconds`; null without ticks.
 * Circular, because a phase of 9.9 and one of 0.1 are 0.2 s apart, not 9.8.
 */
export function tickPhase(times: readonly number[], tickSeconds: number): TickPhase | null {
  if (!(tickSeconds > 0)) throw new RangeError('tickSeconds must be positive');
  const finite = times.filter((t) => Number.isFinite(t));
  if (finite.length === 0) return null;
  const angle = (t: number) => (2 * Math.PI * t) / tickSeconds;
  let x = 0;
  let y = 0;
  for (const t of finite) {
    x += Math.cos(angle(t));
    y += Math.sin(angle(t));
  }
  const mean = mod((Math.atan2(y, x) / (2 * Math.PI)) * tickSeconds, tickSeconds);
  let spread = 0;
  for (const t of finite) spread = Math.max(spread, circularDistance(t, mean, tickSeconds));
  // Rounded after the modulo (a mean of 9.999 is 0, not 10), and not reduced again after rounding,
  // which would bring back float noise (4.86 % 10 + 10 is 14.86, and 14.86 % 10 is 4.8599…).
  const seconds = round2(mean);
  return {
    seconds: seconds >= tickSeconds ? 0 : seconds,
    spreadSeconds: round2(spread),
    ticks: finite.length,
  };
}

/** The whole-second phase a simulation ticks at that is nearest to a live phase (0 past the last). */
export function nearestWholePhase(phaseSeconds: number, tickSeconds: number): number {
  return mod(Math.round(phaseSeconds), Math.round(tickSeconds));
}

function circularDistance(a: number, b: number, period: number): number {
  const d = mod(a - b, period);
  return Math.min(d, period - d);
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

const round2 = (v: number) => Math.round(v * 100) / 100;
