// A stateful function for `engine test` (spec.yaml, `stateful:`): counts each user's clicks and
// emits the user's session when no click came for 5 minutes of event time (an eventTime timeout,
// as Spark's flatMapGroupsWithState with GroupStateTimeout.EventTimeTimeout).
import type { GroupState, Row } from '@sluice/query-plan';

const GAP_MS = 5 * 60_000;

interface Clicks {
  clicks: number;
  first: number;
  last: number;
}

export function sessionize(key: unknown[], rows: Row[], state: GroupState): Row[] {
  const [user_id] = key;
  if (state.hasTimedOut) {
    const done = state.get() as unknown as Clicks;
    state.remove();
    return [{ user_id, ...done }];
  }
  const s = (state.get() as unknown as Clicks | undefined) ?? {
    clicks: 0,
    first: Number.MAX_SAFE_INTEGER,
    last: 0,
  };
  for (const row of rows) {
    const ts = row.ts as number;
    s.clicks += 1;
    s.first = Math.min(s.first, ts);
    s.last = Math.max(s.last, ts);
  }
  state.update({ ...s });
  state.setTimeoutTimestamp(s.last + GAP_MS);
  return [];
}
