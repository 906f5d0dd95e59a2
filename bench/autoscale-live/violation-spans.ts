// Where a live run broke its lag objective: spans of consecutive 1 s samples over the objective,
// in profile seconds, with the group's size at their start and end. The live target compares only
// the total with the simulation's; the spans say which part of the profile (a scale-out arriving
// late, a scale-in's pause, the cold first batches) the total came from.

export interface LiveLagSample {
  /** Live ms since the load started. */
  liveMs: number;
  /** Worst partition's lag, live seconds. */
  lagSeconds: number;
  /** Instances the query was scaled to, and those running. */
  desired: number;
  running: number;
}

export interface ViolationSpan {
  /** Profile seconds of the first sample over the objective, and of the first one back under. */
  fromSeconds: number;
  toSeconds: number;
  /** Worst lag within the span, profile seconds. */
  maxLagSeconds: number;
  /** Desired/running instances at the first sample of the span and at its last. */
  startInstances: { desired: number; running: number };
  endInstances: { desired: number; running: number };
}

export function violationSpans(
  samples: readonly LiveLagSample[],
  sloLiveSeconds: number,
  speedup: number,
): ViolationSpan[] {
  const spans: ViolationSpan[] = [];
  const profileSeconds = (ms: number) => Math.round((ms / 1000) * speedup);
  let open: ViolationSpan | undefined;
  for (const s of samples) {
    if (s.lagSeconds > sloLiveSeconds) {
      const lag = +(s.lagSeconds * speedup).toFixed(1);
      const at = { desired: s.desired, running: s.running };
      if (!open) {
        open = {
          fromSeconds: profileSeconds(s.liveMs),
          toSeconds: profileSeconds(s.liveMs),
          maxLagSeconds: lag,
          startInstances: at,
          endInstances: at,
        };
        spans.push(open);
      }
      open.maxLagSeconds = Math.max(open.maxLagSeconds, lag);
      open.endInstances = at;
      open.toSeconds = profileSeconds(s.liveMs);
    } else if (open) {
      open.toSeconds = profileSeconds(s.liveMs);
      open = undefined;
    }
  }
  return spans;
}

/** `from–to s (max lag L s, instances d/r → d/r)` per span, for the bench's text output. */
export function formatSpans(spans: readonly ViolationSpan[]): string {
  if (spans.length === 0) return 'none';
  return spans
    .map(
      (v) =>
        `${v.fromSeconds}–${v.toSeconds} s (max lag ${v.maxLagSeconds} s, instances desired/running ` +
        `${v.startInstances.desired}/${v.startInstances.running} → ${v.endInstances.desired}/${v.endInstances.running})`,
    )
    .join(', ');
}
