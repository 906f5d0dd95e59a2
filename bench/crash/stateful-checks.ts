// The expected output of the crash test's session and stream–stream join queries, computed from
// the input alone (no engine code), and the comparison with what the sinks hold.

/** One valid click as the session query sees it. */
export interface SessionInput {
  user: string;
  tsMs: number;
  bytes: number;
}

export interface SessionRow {
  clicks: number;
  bytes: number;
  endMs: number;
}

/**
 * Gap-based sessions per user (a row at t is the session [t, t + gap); overlapping ones merge),
 * keyed `user|start ISO`. `rows` must come in event-time order per user (the test's input does).
 */
export function expectedSessions(rows: Iterable<SessionInput>, gapMs: number): Map<string, SessionRow> {
  const open = new Map<string, { startMs: number; row: SessionRow }>();
  const out = new Map<string, SessionRow>();
  const close = (user: string, s: { startMs: number; row: SessionRow }) =>
    out.set(`${user}|${new Date(s.startMs).toISOString()}`, s.row);
  for (const r of rows) {
    const s = open.get(r.user);
    if (s && r.tsMs < s.startMs) throw new Error(`session input out of order for ${r.user}`);
    if (s && r.tsMs < s.row.endMs) {
      s.row.clicks++;
      s.row.bytes += r.bytes;
      s.row.endMs = Math.max(s.row.endMs, r.tsMs + gapMs);
      continue;
    }
    if (s) close(r.user, s);
    open.set(r.user, { startMs: r.tsMs, row: { clicks: 1, bytes: r.bytes, endMs: r.tsMs + gapMs } });
  }
  for (const [user, s] of open) close(user, s);
  return out;
}

export interface Comparison {
  lost: number;
  wrong: number;
  samples: string[];
}

/** Expected rows missing from `got`, rows that differ, and rows nobody expected (wrong). */
export function compareRows<T>(
  expected: ReadonlyMap<string, T>,
  got: ReadonlyMap<string, T>,
  same: (a: T, b: T) => boolean,
  show: (t: T) => string,
): Comparison {
  const c: Comparison = { lost: 0, wrong: 0, samples: [] };
  const sample = (m: string) => {
    if (c.samples.length < 5) c.samples.push(m);
  };
  for (const [key, e] of expected) {
    const g = got.get(key);
    if (g === undefined) c.lost++;
    else if (!same(g, e)) {
      c.wrong++;
      sample(`${key}: ${show(g)}, expected ${show(e)}`);
    }
  }
  for (const [key, g] of got)
    if (!expected.has(key)) {
      c.wrong++;
      sample(`${key}: ${show(g)}, not expected`);
    }
  return c;
}

/** Each expected id exactly once with its expected value: lost, duplicated and wrong ones. */
export function compareOnce<V>(
  expected: ReadonlyMap<number, V>,
  seen: ReadonlyMap<number, { n: number; value: V }>,
  same: (a: V, b: V) => boolean,
): { lost: number; duplicated: number; wrong: number } {
  let lost = 0;
  let duplicated = 0;
  let wrong = 0;
  for (const id of expected.keys()) if (!seen.has(id)) lost++;
  for (const [id, s] of seen) {
    const e = expected.get(id);
    if (e === undefined || !same(s.value, e)) wrong++;
    if (s.n > 1) duplicated += s.n - 1;
  }
  return { lost, duplicated, wrong };
}
