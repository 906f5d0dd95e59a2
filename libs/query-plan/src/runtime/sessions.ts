// Session windows of one grouping key, as Spark's MergingSessionsExec / UpdatingSessionsExec
// compute them: a row at time t is the session [t, t + gap); a session that overlaps (or touches)
// another of the same key merges with it — start = the earliest, end = the latest end, buffers
// combined — so one late-arriving row can bridge two sessions into one. Sessions of a key are
// kept sorted by start and never overlap. Pure logic: the engine stores the list per key.

export interface Session {
  start: number;
  end: number;
  buffer: unknown;
  /** Changed in the open batch (update mode emits these); never stored. */
  dirty?: boolean;
}

/** The sessions after adding a row at `t` whose own buffer is `rowBuffer`; `sessions` is sorted. */
export function addToSessions(
  sessions: readonly Session[],
  t: number,
  gapMs: number,
  rowBuffer: unknown,
  merge: (a: unknown, b: unknown) => unknown,
): Session[] {
  // One pass suffices: the sessions are sorted and disjoint, so one skipped because it lies
  // wholly before or after the row's interval also lies outside the merged interval.
  let added: Session = { start: t, end: t + gapMs, buffer: rowBuffer, dirty: true };
  const kept: Session[] = [];
  for (const s of sessions) {
    // Spark's merge test: the next session starts at or before the current one's end.
    if (s.start <= added.end && added.start <= s.end) {
      added = {
        start: Math.min(s.start, added.start),
        end: Math.max(s.end, added.end),
        buffer: merge(s.buffer, added.buffer),
        dirty: true,
      };
    } else kept.push(s);
  }
  kept.push(added);
  kept.sort((a, b) => a.start - b.start);
  return kept;
}

/** Stored form of a key's sessions: `[[start, end, buffer], …]`. */
export type StoredSessions = Array<[number, number, unknown]>;

export function toStoredSessions(sessions: readonly Session[]): StoredSessions {
  return sessions.map((s) => [s.start, s.end, s.buffer]);
}

export function fromStoredSessions(stored: unknown): Session[] {
  if (!Array.isArray(stored)) throw new Error('session state is not a list of sessions');
  return stored.map((entry: unknown) => {
    if (!Array.isArray(entry) || typeof entry[0] !== 'number' || typeof entry[1] !== 'number')
      throw new Error('session state entry is not [start, end, buffer]');
    return { start: entry[0], end: entry[1], buffer: entry[2] as unknown };
  });
}
