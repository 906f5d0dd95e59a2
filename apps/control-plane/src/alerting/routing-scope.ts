// Which notification groups a routing pass must decide. decideFlush (@sluice/alerting) is a
// function of the group's stored state, its alerts, the receiver's timing and the clock; between
// two passes its answer can change only if (a) one of the group's alerts changed (state,
// acknowledgement, a row gone), (b) the receivers or the active silences changed (what is routed
// where, with which timing), or (c) one of the group's timers — group_wait after firstSeenAt,
// group_interval and repeat_interval after lastSentAt — came due. A pass that decides only those
// groups therefore decides exactly what a pass over every group would; at 1,000 queries it saves
// reading every firing/resolved alert and deciding ~1,000 groups per tick (BENCHMARKS.md: routing
// was the longest phase of an evaluation).

/** The stored timers of one (receiver, group key) group. */
export interface GroupTimers {
  readonly receiverId: string;
  readonly groupKey: string;
  readonly firstSeenAtMs: number | null;
  readonly lastSentAtMs: number | null;
}

export interface ReceiverTiming {
  readonly id: string;
  readonly groupWaitSeconds: number;
  readonly groupIntervalSeconds: number;
  readonly repeatIntervalSeconds: number;
}

/** The instants at which decideFlush may answer differently for an unchanged group. */
export function timersOf(g: GroupTimers, r: ReceiverTiming): number[] {
  const out: number[] = [];
  if (g.lastSentAtMs === null) {
    if (g.firstSeenAtMs !== null) out.push(g.firstSeenAtMs + r.groupWaitSeconds * 1000);
  } else {
    out.push(g.lastSentAtMs + r.groupIntervalSeconds * 1000, g.lastSentAtMs + r.repeatIntervalSeconds * 1000);
  }
  return out;
}

/**
 * Group keys (query names) of the groups one of whose timers fell in (sinceMs, nowMs]: the last
 * pass decided them before the timer, this one must decide them again. Groups of a receiver not
 * in `receivers` (disabled, deleted) are left out: nothing routes to it.
 */
export function dueGroupKeys(
  groups: readonly GroupTimers[],
  receivers: readonly ReceiverTiming[],
  sinceMs: number,
  nowMs: number,
): Set<string> {
  const timing = new Map(receivers.map((r) => [r.id, r]));
  const out = new Set<string>();
  for (const g of groups) {
    const r = timing.get(g.receiverId);
    if (!r) continue;
    if (timersOf(g, r).some((t) => t > sinceMs && t <= nowMs)) out.add(g.groupKey);
  }
  return out;
}

/**
 * What routes where: the enabled receivers (each row's updatedAt moves with any change of its
 * matchers or timing) and the silences in force. A different signature from the last pass's
 * means every group must be decided again.
 */
export function routingSignature(
  receivers: ReadonlyArray<{ id: string; updatedAt: Date }>,
  silences: ReadonlyArray<{ id: string }>,
): string {
  const r = receivers.map((x) => `${x.id}@${x.updatedAt.getTime()}`).sort();
  const s = silences.map((x) => x.id).sort();
  return `${r.join(',')}|${s.join(',')}`;
}

/**
 * What the next pass decides: every group (`all`) or the groups of these query names. The router
 * keeps the last pass's time and signature in memory; anything that breaks the chain of passes
 * (the first pass of a leadership, a failed pass) makes the next one decide every group.
 */
export type RoutingScope =
  { readonly all: true } | { readonly all: false; readonly queries: ReadonlySet<string> };

export class RoutingChain {
  private last: { atMs: number; signature: string } | undefined;

  /** The scope of a pass at nowMs, given the signature and the groups' timers. */
  scope(
    nowMs: number,
    signature: string,
    changedQueries: ReadonlySet<string>,
    groups: readonly GroupTimers[],
    receivers: readonly ReceiverTiming[],
  ): RoutingScope {
    const last = this.last;
    if (!last || last.signature !== signature || nowMs < last.atMs) return { all: true };
    const queries = dueGroupKeys(groups, receivers, last.atMs, nowMs);
    for (const q of changedQueries) queries.add(q);
    return { all: false, queries };
  }

  /** The pass at nowMs decided everything in its scope. */
  passed(nowMs: number, signature: string): void {
    this.last = { atMs: nowMs, signature };
  }

  /** The next pass decides every group (a failed pass, a new leadership). */
  reset(): void {
    this.last = undefined;
  }
}
