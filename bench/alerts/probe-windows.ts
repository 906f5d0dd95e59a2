// Which API probes count as "during an evaluation", and a control for them.
//
// The bench's "during" set is small: an evaluation lasts 0.1–0.2 s, the prober answers ~35 probes
// a second, so 24 evaluations give 50–90 probes, and the p99 of fewer than 100 values is their
// maximum. The "idle" set has thousands, so its p99 is a true 99th percentile. Comparing the two
// compares a maximum with a percentile: a garbage collection that lands in any one evaluation
// window lifts "during" whatever the evaluation itself costs.
//
// The control (a placebo): the same windows moved by a fraction of the interval, where no
// evaluation runs. Probes in them are the same in number and in time structure (a few in a row,
// once an interval), so their p99 is the same statistic over the same kind of sample, and what
// "during" adds above it is what the evaluations add.

export interface Span {
  startMs: number;
  endMs: number;
}

const overlaps = (p: Span, w: Span): boolean => p.startMs < w.endMs && p.endMs > w.startMs;

/** Probes that overlap one of `windows`. */
export function probesIn<P extends Span>(probes: readonly P[], windows: readonly Span[]): P[] {
  return probes.filter((p) => windows.some((w) => overlaps(p, w)));
}

/** The windows moved by `shiftMs` (the placebo's: no evaluation runs there). */
export function shifted(windows: readonly Span[], shiftMs: number): Span[] {
  return windows.map((w) => ({ startMs: w.startMs + shiftMs, endMs: w.endMs + shiftMs }));
}

/**
 * Probes in `windows` moved by `shiftMs`, leaving out any probe that overlaps a real window (an
 * evaluation that ran long, or the next one).
 */
export function placeboProbes<P extends Span>(
  probes: readonly P[],
  windows: readonly Span[],
  shiftMs: number,
): P[] {
  return probesIn(probes, shifted(windows, shiftMs)).filter((p) => !windows.some((w) => overlaps(p, w)));
}

/** An evaluation's top-level phases, in the order the evaluator runs them (alert-evaluator.service.ts). */
export const EVALUATION_PHASES = [
  'read',
  'prepare',
  'compute',
  'writes',
  'analyze',
  'gauges',
  'route',
] as const;

/**
 * The phases of `evaluation` a probe overlapped, laid end to end from its start (the evaluator's
 * phases are sequential; their rounded durations put each boundary within a millisecond or so).
 * Time after the last phase is "after"; a probe that began before the evaluation, "before".
 */
export function phasesOverlapped(
  probe: Span,
  evaluation: Span & { phasesMs: Readonly<Record<string, number>> },
): string[] {
  const out: string[] = [];
  if (probe.startMs < evaluation.startMs) out.push('before');
  let t = evaluation.startMs;
  for (const name of EVALUATION_PHASES) {
    const ms = evaluation.phasesMs[name];
    if (ms === undefined) continue;
    const phase = { startMs: t, endMs: t + ms };
    if (ms > 0 ? overlaps(probe, phase) : probe.startMs <= t && probe.endMs >= t) out.push(name);
    t += ms;
  }
  if (probe.endMs > t && probe.endMs > evaluation.startMs) out.push('after');
  return out;
}

/** Milliseconds of `pauses` (the main thread's garbage collections) inside `span`. */
export function pausedMsIn(span: Span, pauses: readonly Span[]): number {
  let ms = 0;
  for (const p of pauses)
    ms += Math.max(0, Math.min(span.endMs, p.endMs) - Math.max(span.startMs, p.startMs));
  return ms;
}

/**
 * The server's handling of `probe`: the first request span (`served`, sorted by start) that began
 * and ended inside it, or undefined (the probes went to another process, the request failed, or its
 * end was noted after the probe's: a pause of the main thread between writing the response and
 * the `finish` event). Probes are sent one after another, so at most one request is inside each.
 */
export function servedWithin(probe: Span, served: readonly Span[]): Span | undefined {
  let lo = 0;
  let hi = served.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (served[mid]!.startMs < probe.startMs) lo = mid + 1;
    else hi = mid;
  }
  const s = served[lo];
  return s && s.startMs <= probe.endMs && s.endMs <= probe.endMs ? s : undefined;
}
