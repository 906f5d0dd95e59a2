// When evaluations run, and the time an alert's `for` is measured in.
//
// Evaluations run on a fixed grid of the interval (multiples of it since the epoch), as
// Prometheus's rule groups do (rules/group.go, `EvalTimestamp`: each evaluation is stamped with
// its slot, not with the moment it happened to run). The alert lifecycle takes the slot as the
// evaluation's time, so the times `for` is measured between are whole intervals apart: with
// `for: 30s` every 10 s, an alert fires at the third evaluation after the one that saw the
// condition. Stamped with the moment each ran (a `setInterval`), three intervals measured a few
// ms under 30 s now and then, and the alert fired one evaluation later: 40 s of `for` instead of
// 30 (bench:alerts, 2026-12-04: pending → firing took 40 s in the slowest detections, which were
// 48.6–49.9 s against a 50 s target).

/** The slot `nowMs` falls in: the latest multiple of the interval at or before it. */
export function evaluationSlot(nowMs: number, intervalMs: number): number {
  return nowMs - (((nowMs % intervalMs) + intervalMs) % intervalMs);
}

/**
 * The slot to wait for next: the one after `nowMs`, and after the last slot run. A timer may
 * fire a few ms before its slot by the wall clock (node schedules from its cached loop time), so
 * "the slot after now" alone could name the slot just run again.
 */
export function nextSlot(lastSlotMs: number | undefined, nowMs: number, intervalMs: number): number {
  const afterNow = evaluationSlot(nowMs, intervalMs) + intervalMs;
  return lastSlotMs === undefined ? afterNow : Math.max(afterNow, lastSlotMs + intervalMs);
}

/**
 * The time an evaluation is stamped with when the timer for `slotMs` fires at `nowMs`: that
 * slot, or a later one when the timer ran more than an interval late (a blocked event loop): the
 * slots in between are skipped, as Prometheus skips missed iterations.
 */
export function slotRun(slotMs: number, nowMs: number, intervalMs: number): number {
  return Math.max(slotMs, evaluationSlot(nowMs, intervalMs));
}
