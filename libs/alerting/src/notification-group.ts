// Alertmanager's aggregation group timing (dispatch.go, aggrGroup.run / notify.DedupStage), per
// (receiver, group), here one group per query:
//
// - group_wait: the first notification of a new group waits this long after its first alert, so
//   alerts that start together go out together;
// - group_interval: afterwards the group is flushed at most this often, and only when its set of
//   alerts changed (a new firing alert, a resolution);
// - repeat_interval: an unchanged group that still has firing alerts is re-sent after this long.
// A group with nothing firing and nothing left to report is dropped, so a later alert waits
// group_wait again, as in Alertmanager.

export interface GroupTiming {
  readonly groupWaitMs: number;
  readonly groupIntervalMs: number;
  readonly repeatIntervalMs: number;
}

export interface GroupState {
  readonly firstSeenAtMs: number | null;
  readonly lastSentAtMs: number | null;
  /** Fingerprint of what was last sent (groupFingerprint). */
  readonly lastHash: string | null;
}

export interface GroupAlert {
  readonly id: string;
  readonly status: 'firing' | 'resolved';
  readonly resolvedAtMs: number | null;
  /** Acknowledged alerts do not cause repeat notifications. */
  readonly acknowledged: boolean;
}

export type FlushDecision =
  | { readonly action: 'wait'; readonly state: GroupState }
  | { readonly action: 'send'; readonly alerts: readonly GroupAlert[]; readonly state: GroupState }
  | { readonly action: 'drop' };

export const EMPTY_GROUP: GroupState = { firstSeenAtMs: null, lastSentAtMs: null, lastHash: null };

export function groupFingerprint(alerts: readonly GroupAlert[]): string {
  return alerts
    .map((a) => `${a.id}:${a.status}`)
    .sort()
    .join(',');
}

/**
 * `alerts`: the group's firing alerts and the alerts that resolved (not silenced). Resolved ones
 * already reported (resolved before the last send) are left out here.
 */
export function decideFlush(
  state: GroupState,
  all: readonly GroupAlert[],
  nowMs: number,
  timing: GroupTiming,
): FlushDecision {
  const alerts = all.filter(
    (a) =>
      a.status === 'firing' ||
      (state.lastSentAtMs !== null && a.resolvedAtMs !== null && a.resolvedAtMs > state.lastSentAtMs),
  );
  const firing = alerts.filter((a) => a.status === 'firing');
  if (alerts.length === 0) return { action: 'drop' };

  const hash = groupFingerprint(alerts);
  if (state.lastSentAtMs === null) {
    // Nothing sent yet: only firing alerts open a group (a resolution of something never sent is news to no one).
    if (firing.length === 0) return { action: 'drop' };
    const firstSeen = state.firstSeenAtMs ?? nowMs;
    if (nowMs - firstSeen < timing.groupWaitMs) {
      return { action: 'wait', state: { ...state, firstSeenAtMs: firstSeen } };
    }
    return {
      action: 'send',
      alerts,
      state: { firstSeenAtMs: firstSeen, lastSentAtMs: nowMs, lastHash: hash },
    };
  }
  const sinceSent = nowMs - state.lastSentAtMs;
  if (hash !== state.lastHash) {
    if (sinceSent < timing.groupIntervalMs) return { action: 'wait', state };
    return { action: 'send', alerts, state: { ...state, lastSentAtMs: nowMs, lastHash: hash } };
  }
  const repeatable = firing.filter((a) => !a.acknowledged);
  if (repeatable.length > 0 && sinceSent >= timing.repeatIntervalMs) {
    return { action: 'send', alerts, state: { ...state, lastSentAtMs: nowMs, lastHash: hash } };
  }
  if (firing.length === 0) return { action: 'drop' };
  return { action: 'wait', state };
}
